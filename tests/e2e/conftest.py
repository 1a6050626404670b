"""A real lmclab stack for end-to-end tests: `python -m server` and `python -m worker` as child
processes, on the embedded defaults (SQLite + filesystem broker) or on Postgres + Redis.

Budget: starting a stack takes ~5 s (torch import in the worker); each quick experiment ~10-20 s.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from client.lab import LabClient
from client.processes import free_port, start, stop, wait_healthy


@dataclass
class Stack:
    url: str
    home: Path
    env: dict[str, str]
    lab: LabClient

    def logs(self) -> str:
        parts = []
        for name in ("server.log", "worker.log"):
            path = self.home / "logs" / name
            if path.exists():
                parts.append(f"----- {name}\n{path.read_text()[-6000:]}")
        return "\n".join(parts)


def start_stack(home: Path, extra_env: dict[str, str]) -> Iterator[Stack]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "LMCLAB_HOME": str(home),
        "LMCLAB_SERVER_URL": url,
        "LMCLAB_TORCH_THREADS": "1",
        "PYTHONUNBUFFERED": "1",
        **extra_env,
    }
    server = start(
        "server",
        ["--host", "127.0.0.1", "--port", str(port)],
        env=env,
        log_path=home / "logs" / "server.log",
    )
    worker = None
    try:
        wait_healthy(url, server, timeout=60)
        worker = start("worker", [], env=env, log_path=home / "logs" / "worker.log")
        with LabClient(url, retries=2) as lab:
            yield Stack(url=url, home=home, env=env, lab=lab)
    finally:
        if worker is not None:
            stop(worker)
        stop(server)


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


def quick_spec(**overrides: object) -> dict[str, object]:
    """The quick preset as a dict, with overrides (a tiny real experiment)."""
    import yaml

    from client.presets import preset_path

    spec = yaml.safe_load(preset_path("quick").read_text())
    spec.update(overrides)
    return spec
