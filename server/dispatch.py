"""Sending ready jobs to the workers through Celery (send_task only; the server runs no tasks).

The message carries only the job id: the graph's state lives in the database, and a worker
claims the job over HTTP before doing anything (DESIGN §5), so duplicates are harmless.
"""

from __future__ import annotations

from functools import cached_property
from typing import Protocol

from celery import Celery

from client.settings import Settings

TASK_NAME = "lmclab.run_job"
GPU_QUEUE = "gpu"

# Fail fast when the broker is down: the job goes back to pending and the reaper retries it.
SEND_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0.0,
    "interval_step": 0.5,
    "interval_max": 1,
}


class Dispatcher(Protocol):
    """Anything that can hand a job id to the workers; raises when it cannot."""

    def send(self, job_id: int) -> None: ...

    def describe(self) -> str: ...

    def close(self) -> None: ...


class CeleryDispatcher:
    """Publishes `lmclab.run_job(job_id)` on the gpu queue of the configured broker."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    @cached_property
    def celery(self) -> Celery:
        app = Celery("lmclab-server", broker=_broker_url(self._settings), set_as_current=False)
        app.conf.update(
            broker_transport_options=self._settings.celery_broker_options(),
            broker_connection_timeout=5,
            task_serializer="json",
            accept_content=["json"],
            task_default_queue="default",
        )
        return app

    def send(self, job_id: int) -> None:
        self.celery.send_task(
            TASK_NAME, args=[job_id], queue=GPU_QUEUE, retry=True, retry_policy=SEND_RETRY_POLICY
        )

    def describe(self) -> str:
        return redact_url(self._settings.broker_url)

    def close(self) -> None:
        if "celery" in self.__dict__:
            self.celery.close()


def _broker_url(settings: Settings) -> str:
    """The broker URL for kombu; the filesystem transport ignores the host, so name one rather
    than have kombu warn "No hostname was supplied" on every connection."""
    if settings.broker_url in ("filesystem://", "filesystem:///"):
        return "filesystem://localhost/"
    return settings.broker_url


def redact_url(url: str) -> str:
    """The URL with its password replaced, for display (health, logs)."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    credentials, _, host = rest.rpartition("@")
    user, has_password, _ = credentials.partition(":")
    return f"{scheme}://{user}{':***' if has_password else ''}@{host}"
