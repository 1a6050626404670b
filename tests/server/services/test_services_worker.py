"""The worker protocol under contention: many claimers, many dispatchers, one winner each."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from fastapi.testclient import TestClient
from sqlalchemy import update

from server.db.models import JobRecord
from server.errors import Conflict
from server.runtime import Runtime
from server.services.scheduling import dispatch_ready
from server.services.worker import claim_job
from tests.server.conftest import create_experiment, job_of
from tests.server.fakeworker import FakeWorker

T = TypeVar("T")
THREADS = 6


def race(action: Callable[[int], T]) -> list[T | Exception]:
    """Run `action(i)` in THREADS threads released at the same moment."""
    barrier = threading.Barrier(THREADS)
    results: list[T | Exception] = [Exception("did not run")] * THREADS

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = action(i)
        except Exception as error:
            results[i] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def test_one_claim_wins(client: TestClient, runtime: Runtime) -> None:
    experiment_id = create_experiment(client)
    job_id = job_of(client, experiment_id, "trunk")["id"]

    def claim(i: int) -> str:
        with runtime.sessions() as session:
            assignment = claim_job(
                session=session,
                job_id=job_id,
                worker=f"gpu-{i}",
                lease_seconds=30,
                heartbeat_seconds=5,
            )
            return assignment.lease_token

    results = race(claim)
    tokens = [r for r in results if isinstance(r, str)]
    assert len(tokens) == 1, results
    assert all(isinstance(r, Conflict) for r in results if not isinstance(r, str)), results
    job = job_of(client, experiment_id, "trunk")
    assert job["attempts"] == 1 and job["status"] == "running"


class Recorder:
    """A dispatcher that records what it sends (thread-safe)."""

    def __init__(self) -> None:
        self.sent: list[int] = []
        self._lock = threading.Lock()

    def send(self, job_id: int) -> None:
        with self._lock:
            self.sent.append(job_id)

    def describe(self) -> str:
        return "recorder"

    def close(self) -> None:
        pass


def test_concurrent_dispatch_sends_each_job_once(client: TestClient, runtime: Runtime) -> None:
    experiment_id = create_experiment(client, splits={"epochs": [0, 0.5, 1]})
    FakeWorker(client).run(job_of(client, experiment_id, "trunk")["id"])
    # the three branch jobs are queued already; put them back to pending to race over them
    with runtime.sessions() as session:
        session.execute(
            update(JobRecord).where(JobRecord.status == "queued").values(status="pending")
        )
        session.commit()
    recorder = Recorder()

    def dispatch(_i: int) -> list[int]:
        with runtime.sessions() as session:
            return dispatch_ready(session=session, dispatcher=recorder)

    results = race(dispatch)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(recorder.sent) == sorted(
        job_of(client, experiment_id, "branches", 0, step)["id"] for step in (0, 4, 8)
    )
