"""The `lmclab` command. `server` and `worker` hand over to `python -m server` / `python -m worker`
by exec, never by import, so the client stays installable and importable alone (DESIGN §1)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from rich.console import Console

from client.errors import LabError, ValidationFailed
from client.lab import LabClient
from client.presets import preset_names, preset_path
from client.render import print_experiments, print_hulls
from client.settings import Settings

err = Console(stderr=True)


def _exec_module(module: str, args: list[str]) -> None:
    os.execv(sys.executable, [sys.executable, "-m", module, *args])


def _spec_source(value: str) -> Path:
    """A spec file, or the name of a shipped preset."""
    path = Path(value)
    if path.exists() or value.endswith((".yaml", ".yml", ".json")):
        return path
    return preset_path(value)


def _parser() -> argparse.ArgumentParser:
    settings = Settings()
    parser = argparse.ArgumentParser(prog="lmclab", description=__doc__)
    parser.add_argument(
        "--server-url",
        default=settings.server_url,
        help="the server to talk to (LMCLAB_SERVER_URL)",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("server", help="run the API server (python -m server)")
    p.add_argument("--host", default=settings.host)
    p.add_argument("--port", type=int, default=settings.port)
    sub.add_parser("worker", help="run a Celery worker (python -m worker)")
    sub.add_parser("migrate", help="upgrade the database to the newest schema")

    p = sub.add_parser("demo", help="run a small real experiment end to end on this machine")
    p.add_argument("--preset", default="demo", help=f"one of {', '.join(preset_names())}")
    p.add_argument("--home", type=Path, default=None, help="LMCLAB_HOME for this run")
    p.add_argument("--timeout", type=float, default=None, help="give up after this many seconds")

    p = sub.add_parser("submit", help="submit a spec (a YAML/JSON file or a preset name)")
    p.add_argument("spec")
    p.add_argument("--wait", action="store_true", help="wait for it and print its hulls")
    p.add_argument("--timeout", type=float, default=None)

    sub.add_parser("list", help="list experiments")
    sub.add_parser("presets", help="list the shipped spec presets")
    for name, text in (
        ("status", "show an experiment"),
        ("hulls", "print an experiment's hulls"),
        ("cancel", "cancel an experiment"),
        ("wait", "wait for an experiment"),
    ):
        p = sub.add_parser(name, help=text)
        p.add_argument("id", type=int)
        if name == "hulls":
            p.add_argument("--json", action="store_true", help="print JSON instead of a table")

    p = sub.add_parser("hull", help="one hull, optionally with every sample")
    p.add_argument("id", type=int)
    p.add_argument("--split", type=float, required=True, help="the split epoch as in the spec")
    p.add_argument("--trunk", type=int, default=0)
    p.add_argument("--samples", action="store_true")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    # Hand-overs keep their own flags (celery's, uvicorn's): parse nothing after the command.
    if argv and argv[0] in ("server", "worker", "migrate") and "-h" not in argv[1:2]:
        module = "worker" if argv[0] == "worker" else "server"
        _exec_module(module, argv[1:] if argv[0] != "migrate" else ["migrate"])
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except ValidationFailed as exc:
        err.print(f"[red]the spec is invalid[/]\n{exc}")
        return 2
    except (LabError, FileNotFoundError, ValueError) as exc:
        err.print(f"[red]error:[/] {exc}")
        return 1


def _run(args: argparse.Namespace) -> int:
    if args.command == "demo":
        from client.demo import run_demo

        return run_demo(preset=args.preset, home=args.home, timeout=args.timeout)
    if args.command == "presets":
        for name in preset_names():
            print(f"{name}\t{preset_path(name)}")
        return 0
    with LabClient(args.server_url) as lab:
        if args.command == "submit":
            experiment_id = lab.submit(_spec_source(args.spec))
            print(experiment_id)
            if not args.wait:
                return 0
            experiment = lab.wait(experiment_id, progress=True, timeout=args.timeout)
            print_hulls(lab.list_hulls(experiment_id), title=f"experiment {experiment_id}")
            return 0 if experiment.status == "done" else 1
        if args.command == "list":
            print_experiments(lab.list_experiments())
        elif args.command == "status":
            print(lab.get_experiment(args.id).model_dump_json(indent=2))
        elif args.command == "wait":
            experiment = lab.wait(args.id, progress=True)
            print(experiment.status)
            return 0 if experiment.status == "done" else 1
        elif args.command == "cancel":
            print(lab.cancel(args.id).status)
        elif args.command == "hulls":
            table = lab.list_hulls(args.id)
            if args.json:
                print(json.dumps([row.model_dump(mode="json") for row in table.rows], indent=2))
            else:
                print_hulls(table, title=f"experiment {args.id}")
        elif args.command == "hull":
            hull = lab.get_hull(args.id, split=args.split, trunk=args.trunk, samples=args.samples)
            print(hull.model_dump_json(indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
