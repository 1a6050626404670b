"""A real lmclab stack for end-to-end tests: `python -m server` and `python -m worker` as child
processes, on the embedded defaults (SQLite + filesystem broker) or on Postgres + Redis.

Budget: starting a stack takes ~5 s (torch import in the worker); each quick experiment ~10-20 s.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from client.lab import LabClient
from client.processes import LocalStack, local_stack


@dataclass
class Stack:
    """A running local stack and a client of it."""

    local: LocalStack
    lab: LabClient

    @property
    def url(self) -> str:
        return self.local.url

    def logs(self) -> str:
        return self.local.logs()


def start_stack(home: Path, extra_env: dict[str, str]) -> Iterator[Stack]:
    env = {"LMCLAB_TORCH_THREADS": "1", **extra_env}
    with local_stack(home, env) as stack, LabClient(stack.url, retries=2) as lab:
        yield Stack(local=stack, lab=lab)


@pytest.fixture(scope="module")
def embedded_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """SQLite + filesystem broker: the embedded default, nothing but the two processes."""
    yield from start_stack(tmp_path_factory.mktemp("embedded"), {})


@pytest.fixture(scope="module")
def lab_stack(
    tmp_path_factory: pytest.TempPathFactory, postgres_database_url: str
) -> Iterator[Stack]:
    """Postgres + Redis, as in a lab deployment: the session's fresh database, its own Redis db."""
    import redis

    redis_url = "redis://127.0.0.1:6379/11"
    redis.Redis.from_url(redis_url).flushdb()
    env = {"LMCLAB_DATABASE_URL": postgres_database_url, "LMCLAB_BROKER_URL": redis_url}
    yield from start_stack(tmp_path_factory.mktemp("lab"), env)
