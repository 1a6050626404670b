"""The worker protocol (DESIGN §5): claim a job under a lease, renew it, complete or fail it.

Every transition is a compare-and-set on the state the request saw, so two workers, the reaper
and a cancel can race without a job being run twice or finished by a stale lease. Repeating a
post (a retry after a lost response) changes nothing the second time.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from client.contract.results import Job, JobAssignment, JobCompletion, JobFailure, LeaseRenewed
from client.contract.spec import ExperimentSpec
from server.db.cas import compare_and_set
from server.db.models import ExperimentRecord, JobRecord
from server.db.types import utcnow
from server.dispatch import Dispatcher
from server.errors import Conflict, Invalid
from server.services.failure import fail_for_good
from server.services.hulls import record_cmc_result
from server.services.lookup import branch_runs, job_record, trunk_run
from server.services.scheduling import dispatch_ready
from server.services.status import job_label
from server.services.views import job_view, run_view

TERMINAL = frozenset({"done", "failed", "cancelled"})


def _deps_done(session: Session, job: JobRecord) -> bool:
    deps = list(job.depends_on or [])
    if not deps:
        return True
    done = session.scalars(
        select(JobRecord.id).where(JobRecord.id.in_(deps), JobRecord.status == "done")
    )
    return set(done) == set(deps)


def _check_claimable(session: Session, job: JobRecord, worker: str, now: datetime) -> None:
    name = f"job {job.id} ({job_label(job.kind, job.trunk, job.split_step)})"
    if job.status in TERMINAL:
        raise Conflict(f"{name} is {job.status}")
    if job.status == "pending" and not _deps_done(session, job):
        raise Conflict(f"{name} waits for jobs {job.depends_on}")
    if job.status == "running":
        live = job.lease_expires_at is not None and job.lease_expires_at > now
        if live and job.worker != worker:
            raise Conflict(f"{name} is held by worker {job.worker} until {job.lease_expires_at}")
        if job.attempts >= job.max_attempts:
            raise Conflict(f"{name} has used all {job.max_attempts} attempts")


def claim_job(
    *,
    session: Session,
    job_id: int,
    worker: str,
    lease_seconds: float,
    heartbeat_seconds: float,
    now: datetime | None = None,
) -> JobAssignment:
    """Take a queued (or ready pending, or expired running) job: it becomes running under a
    fresh lease token, one more attempt, and the worker gets the spec and runs it needs."""
    now = now or utcnow()
    job = job_record(session, job_id)
    _check_claimable(session, job, worker, now)
    token = uuid.uuid4().hex
    claim = update(JobRecord).where(
        JobRecord.id == job.id,
        JobRecord.status == job.status,
        JobRecord.attempts == job.attempts,
    )
    if job.status == "running":
        claim = claim.where(JobRecord.lease_token == job.lease_token)
    claimed = compare_and_set(
        session,
        claim.values(
            status="running",
            lease_token=token,
            lease_expires_at=now + timedelta(seconds=lease_seconds),
            attempts=JobRecord.attempts + 1,
            worker=worker,
            started_at=now,
            finished_at=None,
        ),
    )
    if not claimed:
        session.rollback()
        raise Conflict(f"job {job_id} was claimed or changed concurrently; not claimed")
    session.commit()
    session.refresh(job)
    experiment = session.get_one(ExperimentRecord, job.experiment_id)
    runs = [trunk_run(session, job.experiment_id, job.trunk)]
    if job.split_step is not None:
        runs += branch_runs(session, job.experiment_id, job.trunk, job.split_step)
    return JobAssignment(
        job=job_view(job),
        lease_token=token,
        lease_seconds=lease_seconds,
        heartbeat_seconds=heartbeat_seconds,
        spec=ExperimentSpec.model_validate(experiment.spec),
        runs=[run_view(run) for run in runs],
    )


def _lease_lost(job: JobRecord, token: str) -> Conflict:
    """Why `token` no longer holds `job`, worded for the worker's log."""
    if job.status == "cancelled":
        return Conflict(f"job {job.id} was cancelled")
    if job.lease_token != token:
        return Conflict(f"job {job.id}: the lease is no longer this token's (re-claimed?)")
    return Conflict(f"job {job.id} is {job.status}, not running under this lease")


def heartbeat_job(
    *,
    session: Session,
    job_id: int,
    lease_token: str,
    lease_seconds: float,
    now: datetime | None = None,
) -> LeaseRenewed:
    """Extend the lease of a running job held by `lease_token`."""
    now = now or utcnow()
    job = job_record(session, job_id)
    renewed = compare_and_set(
        session,
        update(JobRecord)
        .where(
            JobRecord.id == job_id,
            JobRecord.status == "running",
            JobRecord.lease_token == lease_token,
        )
        .values(lease_expires_at=now + timedelta(seconds=lease_seconds)),
    )
    if not renewed:
        session.rollback()
        raise _lease_lost(job, lease_token)
    session.commit()
    return LeaseRenewed(lease_seconds=lease_seconds)


def complete_job(
    *,
    session: Session,
    job_id: int,
    completion: JobCompletion,
    dispatcher: Dispatcher,
    now: datetime | None = None,
) -> Job:
    """Mark a running job done (recording a cmc job's hull), then dispatch what became ready.

    Completing a done job again with its token returns it unchanged.
    """
    now = now or utcnow()
    job = job_record(session, job_id)
    token = completion.lease_token
    if job.status == "done" and job.lease_token == token:
        return job_view(job)
    if job.status != "running" or job.lease_token != token:
        raise _lease_lost(job, token)
    if job.kind == "cmc":
        if completion.cmc is None:
            raise Invalid("a cmc job must be completed with its cmc result", field="cmc")
        spec = ExperimentSpec.model_validate(
            session.get_one(ExperimentRecord, job.experiment_id).spec
        )
        record_cmc_result(
            session=session, job=job, result=completion.cmc, branches=spec.branches.count
        )
    elif completion.cmc is not None:
        raise Invalid(f"only a cmc job carries a cmc result, not a {job.kind} job", field="cmc")
    done = compare_and_set(
        session,
        update(JobRecord)
        .where(
            JobRecord.id == job_id, JobRecord.status == "running", JobRecord.lease_token == token
        )
        .values(
            status="done",
            finished_at=now,
            lease_expires_at=None,
            error=None,
            info={**(job.info or {}), **completion.info},
        ),
    )
    if not done:
        session.rollback()
        raise _lease_lost(job_record(session, job_id), token)
    session.commit()
    session.refresh(job)
    dispatch_ready(session=session, dispatcher=dispatcher, experiment_id=job.experiment_id)
    return job_view(job)


def fail_job(
    *,
    session: Session,
    job_id: int,
    failure: JobFailure,
    dispatcher: Dispatcher,
    now: datetime | None = None,
) -> Job:
    """A worker gave up on a job: retry it (transient, attempts left) or fail it for good.

    Failing for good cancels its dependents and deletes what its runs had written. A repeated
    post with the same token leaves the job as the first one did.
    """
    now = now or utcnow()
    job = job_record(session, job_id)
    token = failure.lease_token
    if job.lease_token != token or job.status == "cancelled":
        raise _lease_lost(job, token)
    if job.status != "running":
        return job_view(job)
    if failure.transient and job.attempts < job.max_attempts:
        retried = compare_and_set(
            session,
            update(JobRecord)
            .where(
                JobRecord.id == job_id,
                JobRecord.status == "running",
                JobRecord.lease_token == token,
            )
            .values(
                status="pending",
                lease_expires_at=None,
                error=f"attempt {job.attempts} of {job.max_attempts} failed: {failure.reason}",
            ),
        )
        if not retried:
            session.rollback()
            raise _lease_lost(job_record(session, job_id), token)
        session.commit()
        dispatch_ready(session=session, dispatcher=dispatcher, experiment_id=job.experiment_id)
    else:
        if not fail_for_good(session=session, job=job, token=token, reason=failure.reason, now=now):
            session.rollback()
            raise _lease_lost(job_record(session, job_id), token)
        session.commit()
    session.refresh(job)
    return job_view(job)
