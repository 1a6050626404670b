"""Dispatch and the reaper: compare-and-set queuing, a broker that is down, restarts, the thread."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from client.settings import Settings
from server.app import create_app
from server.dispatch import CeleryDispatcher
from server.reaper import reaper_pass
from server.runtime import Runtime
from server.services.scheduling import dispatch_ready, ready_job_ids
from tests.server.conftest import API, create_experiment, dispatched_job_ids, job_of
from tests.server.fakeworker import FakeWorker


def test_dispatch_is_compare_and_set(
    client: TestClient, session: Session, runtime: Runtime, settings: Settings
) -> None:
    experiment_id = create_experiment(client)
    worker = FakeWorker(client)
    trunk = worker.claim(job_of(client, experiment_id, "trunk")["id"])
    assert ready_job_ids(session=session) == []  # branches wait for the trunk
    session.rollback()  # SQLite: every transaction holds the write lock (BEGIN IMMEDIATE)
    worker.complete(trunk)  # dispatches both branch jobs
    assert dispatch_ready(session=session, dispatcher=runtime.dispatcher) == []
    assert len(dispatched_job_ids(settings)) == 3


def test_broker_down_leaves_jobs_pending_for_the_reaper(settings: Settings, tmp_path: Path) -> None:
    down = settings.model_copy(update={"broker_url": "redis://127.0.0.1:1/0"})
    app = create_app(down)
    with TestClient(app) as client:
        experiment_id = create_experiment(client)  # the spec is accepted all the same
        trunk = job_of(client, experiment_id, "trunk")
        assert trunk["status"] == "pending"
        assert client.get(f"{API}/experiments/{experiment_id}").json()["status"] == "pending"

        # the broker comes back: the next reaper pass sends the job
        runtime: Runtime = app.state.runtime
        runtime.dispatcher = CeleryDispatcher(settings)
        reaper_pass(runtime)
        assert job_of(client, experiment_id, "trunk")["status"] == "queued"
        assert dispatched_job_ids(settings) == [trunk["id"]]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_claim_works_without_the_message(settings: Settings) -> None:
    """A worker may claim a ready pending job directly (the broker lost its message)."""
    down = settings.model_copy(update={"broker_url": "redis://127.0.0.1:1/0"})
    with TestClient(create_app(down)) as client:
        experiment_id = create_experiment(client)
        lease = FakeWorker(client).claim(job_of(client, experiment_id, "trunk")["id"])
        assert lease.assignment["job"]["status"] == "running"


def test_startup_resends_queued_jobs(settings: Settings) -> None:
    """A server that died between commit and send loses nothing: startup sends queued jobs."""
    with TestClient(create_app(settings)) as client:
        experiment_id = create_experiment(client)
        trunk = job_of(client, experiment_id, "trunk")
    assert dispatched_job_ids(settings) == [trunk["id"]]
    with TestClient(create_app(settings)) as client:
        assert job_of(client, experiment_id, "trunk")["status"] == "queued"
    assert dispatched_job_ids(settings) == [trunk["id"], trunk["id"]]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_reaper_thread_takes_back_expired_leases(settings: Settings) -> None:
    fast = settings.model_copy(update={"lease_seconds": 0.2, "reaper_seconds": 0.05})
    with TestClient(create_app(fast)) as client:
        experiment_id = create_experiment(client)
        job_id = job_of(client, experiment_id, "trunk")["id"]
        FakeWorker(client).claim(job_id)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            job = job_of(client, experiment_id, "trunk")
            if job["status"] == "queued" and job["error"]:
                break
            time.sleep(0.05)
        assert job["status"] == "queued" and "lease expired" in job["error"]
    assert dispatched_job_ids(fast) == [job_id, job_id]
