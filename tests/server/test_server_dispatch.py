"""The Celery side: a ready job's message really lands in the filesystem broker's folder."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from client.settings import Settings
from server.dispatch import CeleryDispatcher, redact_url
from tests.server.conftest import broker_messages, create_experiment, job_of


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_message_lands_in_the_broker_folder(client: TestClient, settings: Settings) -> None:
    experiment_id = create_experiment(client)
    trunk = job_of(client, experiment_id, "trunk")
    files = list((settings.broker_folder / "queue").glob("*.msg"))
    assert len(files) == 1 and files[0].name.endswith(".gpu.msg")
    assert broker_messages(settings) == [
        {"task": "lmclab.run_job", "args": [trunk["id"]], "queue": "gpu"}
    ]


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("filesystem://", "filesystem://"),
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
        ("redis://:secret@host:6379/0", "redis://:***@host:6379/0"),
        ("amqp://user:pw@rabbit//", "amqp://user:***@rabbit//"),
        ("amqp://user@rabbit//", "amqp://user@rabbit//"),
    ],
)
def test_passwords_are_hidden(url: str, shown: str) -> None:
    assert redact_url(url) == shown


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_message_lands_in_redis(settings: Settings) -> None:
    """Lab mode: the same message on a real Redis broker, in the list of the gpu queue."""
    redis = pytest.importorskip("redis")
    url = "redis://127.0.0.1:6379/13"
    connection = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        connection.flushdb()
    except redis.ConnectionError as error:
        pytest.skip(f"no Redis at {url}: {error}")
    dispatcher = CeleryDispatcher(settings.model_copy(update={"broker_url": url}))
    try:
        dispatcher.send(42)
        [raw] = connection.lrange("gpu", 0, -1)
        message = json.loads(raw)
        assert message["headers"]["task"] == "lmclab.run_job"
        assert message["headers"]["argsrepr"] == "[42]"
    finally:
        dispatcher.close()
        connection.flushdb()
