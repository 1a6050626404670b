"""Server test fixtures: a fresh app per test (TestClient with its lifespan), sessions, broker."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from client.settings import Settings
from server.app import create_app
from server.runtime import Runtime
from tests.factories import make_spec

API = "/api/v1"


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return create_app(settings)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """The HTTP client; entering it runs the lifespan (migrations, reaper)."""
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def runtime(app: FastAPI, client: TestClient) -> Runtime:
    runtime: Runtime = app.state.runtime
    return runtime


@pytest.fixture
def session(runtime: Runtime) -> Iterator[Session]:
    """A session on the app's database, for calling services directly."""
    with runtime.sessions() as db_session:
        yield db_session


def broker_messages(settings: Settings) -> list[dict[str, Any]]:
    """Messages waiting in the filesystem broker: task name, args, routing key (in no order:
    kombu's file names do not order messages sent within the same millisecond)."""
    folder = settings.broker_folder / "queue"
    messages = []
    for path in sorted(folder.glob("*.msg")):
        envelope = json.loads(path.read_text())
        args, _kwargs, _embed = json.loads(base64.b64decode(envelope["body"]))
        messages.append(
            {
                "task": envelope["headers"]["task"],
                "args": args,
                "queue": envelope["properties"]["delivery_info"]["routing_key"],
            }
        )
    return messages


def dispatched_job_ids(settings: Settings) -> list[int]:
    """The job ids sent to the broker so far, sorted (each as often as it was sent)."""
    return sorted(m["args"][0] for m in broker_messages(settings))


def create_experiment(client: TestClient, **overrides: Any) -> int:
    response = client.post(f"{API}/experiments", json=make_spec(**overrides))
    assert response.status_code == 201, response.text
    experiment_id: int = response.json()["id"]
    return experiment_id


def jobs_of(client: TestClient, experiment_id: int) -> list[dict[str, Any]]:
    response = client.get(f"{API}/experiments/{experiment_id}/jobs")
    assert response.status_code == 200, response.text
    jobs: list[dict[str, Any]] = response.json()
    return jobs


def job_of(
    client: TestClient, experiment_id: int, kind: str, trunk: int = 0, split_step: int | None = None
) -> dict[str, Any]:
    return next(
        j
        for j in jobs_of(client, experiment_id)
        if j["kind"] == kind and j["trunk"] == trunk and j["split_step"] == split_step
    )
