"""`lmclab demo`: a small real experiment end to end on this machine, no services to start.

It starts the server and one worker as child processes on the embedded defaults (SQLite, local
artifacts, the filesystem broker), submits the demo preset, shows progress, prints the hull table
and stops both processes. The database stays in LMCLAB_HOME for later queries.
"""

from __future__ import annotations

import time
from pathlib import Path

from rich.console import Console

from client.contract import Experiment
from client.lab import LabClient
from client.presets import preset_path
from client.processes import local_stack
from client.render import print_hulls
from client.settings import Settings


def run_demo(
    *, preset: str = "demo", home: Path | None = None, timeout: float | None = None
) -> int:
    """Run the `preset` experiment; returns a process exit code (0 when it finished done)."""
    console = Console(stderr=True)
    home_dir = (home if home is not None else Settings().home).resolve()
    console.print(f"[bold]lmclab demo[/]: home {home_dir} (database, artifacts, logs/)")
    with local_stack(home_dir) as stack, LabClient(stack.url) as lab:
        experiment_id = lab.submit(preset_path(preset))
        console.print(f"submitted experiment {experiment_id} ({preset}); server at {stack.url}")
        started = time.monotonic()
        experiment = lab.wait(experiment_id, progress=True, timeout=timeout)
        elapsed = time.monotonic() - started
        print_hulls(lab.list_hulls(experiment_id), title=_title(experiment, elapsed))
    _print_next_steps(console, experiment, home_dir)
    return 0 if experiment.status == "done" else 1


def _title(experiment: Experiment, elapsed: float) -> str:
    return f"experiment {experiment.id} {experiment.name}: {experiment.status} in {elapsed:.0f} s"


def _print_next_steps(console: Console, experiment: Experiment, home: Path) -> None:
    if experiment.error:
        console.print(f"[red]error:[/] {experiment.error}")
    console.print(
        "P_conv: share of convex samples with lower training loss than their closest endpoint; "
        "P_rand: the same for an equal-distance random perturbation."
    )
    console.print(
        f"query it later: LMCLAB_HOME={home} lmclab server &  then  lmclab hulls {experiment.id}"
    )
