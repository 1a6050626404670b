"""Start and stop the server and a worker as child processes (for `lmclab demo` and the tests).

The client never imports the server or the worker (DESIGN §1): it runs `python -m server` and
`python -m worker` in the same interpreter, with the environment that configures them.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(
    module: str, args: list[str], *, env: Mapping[str, str], log_path: Path
) -> subprocess.Popen[bytes]:
    """`python -m module args...` in its own process group, output appended to `log_path`."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = log_path.open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", module, *args],
        env=dict(env),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait_healthy(url: str, process: subprocess.Popen[bytes], *, timeout: float = 60.0) -> None:
    """Poll GET /api/v1/health until it answers 200; fail early if the process died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with code {process.returncode} before answering")
        try:
            if httpx.get(f"{url}/api/v1/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"no healthy server at {url} after {timeout} s")


def stop(process: subprocess.Popen[bytes], *, grace: float = 10.0) -> None:
    """SIGTERM the process group, then SIGKILL what is left after `grace` seconds."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=grace)
    except ProcessLookupError:
        pass


@dataclass
class LocalStack:
    """A server and one worker running on this machine, sharing `home` and `env`."""

    url: str
    home: Path
    env: dict[str, str]
    server: subprocess.Popen[bytes]
    worker: subprocess.Popen[bytes] | None = None

    def start_worker(self) -> None:
        self.worker = start("worker", [], env=self.env, log_path=self.home / "logs" / "worker.log")

    def kill_worker(self) -> None:
        """SIGKILL the worker mid-job, as a crash or an OOM kill would: no ack, no report."""
        if self.worker is not None:
            os.killpg(self.worker.pid, signal.SIGKILL)
            self.worker.wait(timeout=30)
            self.worker = None

    def stop(self) -> None:
        if self.worker is not None:
            stop(self.worker)
            self.worker = None
        stop(self.server)

    def logs(self, tail: int = 6000) -> str:
        parts = []
        for name in ("server.log", "worker.log"):
            path = self.home / "logs" / name
            if path.exists():
                parts.append(f"----- {name}\n{path.read_text()[-tail:]}")
        return "\n".join(parts)


@contextmanager
def local_stack(home: Path, extra_env: Mapping[str, str] | None = None) -> Iterator[LocalStack]:
    """`python -m server` on a free port and `python -m worker`, stopped on exit.

    Both get LMCLAB_HOME=home (the embedded database, artifacts and broker folder) and
    LMCLAB_SERVER_URL; `extra_env` selects anything else (Postgres, Redis). Logs: home/logs/.
    """
    home = home.resolve()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "LMCLAB_HOME": str(home),
        "LMCLAB_SERVER_URL": url,
        "PYTHONUNBUFFERED": "1",
        **(extra_env or {}),
    }
    server = start(
        "server",
        ["--host", "127.0.0.1", "--port", str(port)],
        env=env,
        log_path=home / "logs" / "server.log",
    )
    stack = LocalStack(url=url, home=home, env=env, server=server)
    try:
        wait_healthy(url, server)
        stack.start_worker()
        yield stack
    finally:
        stack.stop()
