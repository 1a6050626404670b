"""Celery tasks: glue only. Take a job id, hand it to the runner, which talks to the server."""

from __future__ import annotations

from client.errors import ServerUnreachable
from worker.celery_app import app
from worker.runner import run_job as run_job_by_id


@app.task(
    name="lmclab.run_job",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(ServerUnreachable,),
    retry_backoff=True,
    retry_backoff_max=60,
    max_retries=10,
)
def run_job(job_id: int) -> str:
    """Run one job; idempotent, so a redelivered message only finds the job done and returns."""
    return run_job_by_id(job_id)
