"""Runs one job by id: claim its lease, keep the lease alive, run the job, post the outcome.

Why a lease and not the broker's ack: after a SIGKILL the broker gives the message back only when
its visibility timeout expires (hours), so the server re-dispatches a job whose lease lapsed
(DESIGN §5). A heartbeat thread renews the lease; when the server says the lease is gone (the job
was cancelled, or re-claimed after we stalled) the job is asked to stop at its next step.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import traceback
from functools import cache

from client.contract import JobAssignment, JobCompletion, JobFailure
from client.errors import LabError, ServerUnreachable
from client.lab import LabClient
from client.settings import Settings
from worker.jobs import get_job
from worker.jobs.context import JobContext, JobError, LeaseLost
from worker.runtime import resolve_device

log = logging.getLogger("lmclab.worker")


@cache
def _settings() -> Settings:
    return Settings()


def worker_name(settings: Settings) -> str:
    return settings.worker_name or f"{socket.gethostname()}:{os.getpid()}"


def run_job(job_id: int, *, settings: Settings | None = None) -> str:
    """Claim and run job `job_id`; returns what happened, for the Celery log."""
    settings = settings or _settings()
    with LabClient(settings.server_url) as client:
        assignment = client.claim_job(job_id, worker_name(settings))
        if assignment is None:
            log.info("job %s is not ours to run (done, cancelled or leased elsewhere)", job_id)
            return "skipped"
        return _run_claimed(client, assignment, settings)


def _run_claimed(client: LabClient, assignment: JobAssignment, settings: Settings) -> str:
    job = assignment.job
    heartbeat = _Heartbeat(client, assignment)
    heartbeat.start()
    context = JobContext(
        assignment=assignment,
        client=client,
        settings=settings,
        device=resolve_device(settings.device),
        lease_lost=heartbeat.lost,
    )
    try:
        log.info("job %s: %s trunk %s split %s", job.id, job.kind, job.trunk, job.split_step)
        completion = get_job(job.kind)(context)
    except LeaseLost:
        log.warning("job %s: lease lost (cancelled or re-claimed); stopped", job.id)
        return "lease lost"
    except ServerUnreachable:
        # Nobody to tell: the lease lapses and the server re-dispatches the job.
        raise
    except JobError as exc:
        _report_failure(client, assignment, str(exc), transient=False)
        return "failed"
    except Exception as exc:
        reason = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=8)}"
        _report_failure(client, assignment, reason, transient=True)
        return "failed (transient)"
    finally:
        heartbeat.stop()
    if heartbeat.lost.is_set():
        return "lease lost"
    client.complete_job(
        job.id, JobCompletion(lease_token=assignment.lease_token, **completion.model_dump())
    )
    return "done"


def _report_failure(
    client: LabClient, assignment: JobAssignment, reason: str, *, transient: bool
) -> None:
    log.error("job %s failed: %s", assignment.job.id, reason)
    try:
        client.fail_job(
            assignment.job.id,
            JobFailure(
                lease_token=assignment.lease_token, reason=reason[:4000], transient=transient
            ),
        )
    except LabError as exc:
        log.error("job %s: could not report the failure: %s", assignment.job.id, exc)


class _Heartbeat:
    """Renews the lease every heartbeat_seconds on a daemon thread; sets `lost` when refused."""

    def __init__(self, client: LabClient, assignment: JobAssignment) -> None:
        self._client = client
        self._assignment = assignment
        self._stop = threading.Event()
        self.lost = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="lmclab-heartbeat", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        job_id = self._assignment.job.id
        token = self._assignment.lease_token
        while not self._stop.wait(self._assignment.heartbeat_seconds):
            try:
                if not self._client.heartbeat(job_id, token):
                    self.lost.set()
                    return
            except LabError as exc:  # a server restart: keep trying until the lease lapses
                log.warning("job %s: heartbeat failed: %s", job_id, exc)
