"""A worker SIGKILLed mid-trunk: its lease lapses, the server re-dispatches the job, a new worker
resumes from the last checkpoint, and the result equals an uninterrupted run's bit for bit.

Budget: about 40 s (two small experiments, one worker restart, 3 s leases).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from tests.e2e.conftest import Stack, start_stack
from tests.factories import quick_spec

pytestmark = pytest.mark.e2e

# 2,048 images in batches of 64: 32 steps an epoch; the trunk trains 10 epochs (320 steps).
SPEC = quick_spec(
    data={"train_size": 2048, "test_size": 128},
    splits={"epochs": [1, 10]},
    eval_every={"steps": 32},
    branches={"count": 2, "epochs": 1},
)


@pytest.fixture(scope="module")
def short_lease_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    env = {
        "LMCLAB_LEASE_SECONDS": "3",
        "LMCLAB_HEARTBEAT_SECONDS": "1",
        "LMCLAB_REAPER_SECONDS": "1",
    }
    yield from start_stack(tmp_path_factory.mktemp("killed"), env)


def _wait_for(predicate: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _hashes(stack: Stack, experiment_id: int) -> list[str]:
    lab = stack.lab
    trunk = next(r for r in lab.list_runs(experiment_id) if r.kind == "trunk")
    out = [c.sha256 for c in sorted(lab.list_checkpoints(trunk.id), key=lambda c: c.step)]
    out += [b.endpoint.sha256 for b in lab.list_branches(experiment_id) if b.endpoint]
    return out


def test_a_killed_worker_s_job_resumes_and_matches_an_uninterrupted_run(
    short_lease_stack: Stack,
) -> None:
    stack, lab = short_lease_stack, short_lease_stack.lab
    interrupted = lab.submit(SPEC)
    trunk = next(r for r in lab.list_runs(interrupted) if r.kind == "trunk")
    # Kill once the first split checkpoint (step 32) is stored, long before step 320.
    _wait_for(lambda: lab.list_checkpoints(trunk.id), 60, "the first trunk checkpoint")
    stack.local.kill_worker()
    trunk_job = next(j for j in lab.list_jobs(interrupted) if j.kind == "trunk")
    assert trunk_job.status == "running", "the trunk finished before it could be killed"

    stack.local.start_worker()
    finished = lab.wait(interrupted, progress=False, timeout=180, poll_seconds=0.5)
    assert finished.status == "done", stack.logs()
    trunk_job = next(j for j in lab.list_jobs(interrupted) if j.kind == "trunk")
    assert trunk_job.attempts == 2
    assert trunk_job.info["resumed_from"] == 32

    uninterrupted = lab.submit(SPEC)
    assert lab.wait(uninterrupted, progress=False, timeout=180).status == "done"
    assert _hashes(stack, interrupted) == _hashes(stack, uninterrupted)
    hull_a = lab.get_hull(interrupted, split=10)
    hull_b = lab.get_hull(uninterrupted, split=10)
    assert (hull_a.p_conv, hull_a.p_rand) == (hull_b.p_conv, hull_b.p_rand)
