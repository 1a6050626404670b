"""Moving jobs along: dispatch the ready ones, take back the ones whose lease expired.

The broker is not the safety net (DESIGN §5): the database holds each job's state and lease,
so a lost message or a killed worker only delays a job until the reaper's next pass.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from server.db.cas import compare_and_set
from server.db.models import JobRecord
from server.db.types import utcnow
from server.dispatch import Dispatcher
from server.services.failure import fail_for_good

log = logging.getLogger(__name__)


def ready_job_ids(*, session: Session, experiment_id: int | None = None) -> list[int]:
    """Pending jobs whose dependencies are all done, oldest first."""
    query = select(JobRecord.id, JobRecord.experiment_id, JobRecord.depends_on).where(
        JobRecord.status == "pending"
    )
    if experiment_id is not None:
        query = query.where(JobRecord.experiment_id == experiment_id)
    pending = session.execute(query.order_by(JobRecord.id)).all()
    if not pending:
        return []
    experiments = {row.experiment_id for row in pending}
    done = set(
        session.scalars(
            select(JobRecord.id).where(
                JobRecord.experiment_id.in_(experiments), JobRecord.status == "done"
            )
        )
    )
    return [row.id for row in pending if set(row.depends_on or []) <= done]


def _send(session: Session, dispatcher: Dispatcher, job_ids: list[int]) -> list[int]:
    """Send queued jobs; on the first broker error put the unsent ones back to pending."""
    for index, job_id in enumerate(job_ids):
        try:
            dispatcher.send(job_id)
        except Exception:
            unsent = job_ids[index:]
            log.warning(
                "broker %s refused job %d; %d job(s) back to pending for the reaper to retry",
                dispatcher.describe(),
                job_id,
                len(unsent),
                exc_info=True,
            )
            session.execute(
                update(JobRecord)
                .where(JobRecord.id.in_(unsent), JobRecord.status == "queued")
                .values(status="pending", queued_at=None)
            )
            session.commit()
            return job_ids[:index]
    return job_ids


def dispatch_ready(
    *, session: Session, dispatcher: Dispatcher, experiment_id: int | None = None
) -> list[int]:
    """Queue and send every ready job (of one experiment, or all); returns the ids sent.

    pending -> queued is a compare-and-set, committed before the message goes out, so two
    concurrent passes never send the same job twice and a worker never sees an unqueued job.
    """
    candidates = ready_job_ids(session=session, experiment_id=experiment_id)
    queued: list[int] = []
    now = utcnow()
    for job_id in candidates:
        if compare_and_set(
            session,
            update(JobRecord)
            .where(JobRecord.id == job_id, JobRecord.status == "pending")
            .values(status="queued", queued_at=now),
        ):
            queued.append(job_id)
    session.commit()
    return _send(session, dispatcher, queued)


def resend_queued(*, session: Session, dispatcher: Dispatcher) -> list[int]:
    """Send every queued job again (at startup: a crash between commit and send loses none).

    A duplicate message is harmless: the second claim of a job gets 409 and is dropped.
    """
    queued = list(
        session.scalars(
            select(JobRecord.id).where(JobRecord.status == "queued").order_by(JobRecord.id)
        )
    )
    session.commit()
    return _send(session, dispatcher, queued)


def reap_expired_leases(*, session: Session, now: datetime) -> list[int]:
    """Take back running jobs whose lease expired before `now`; returns their ids.

    With attempts left a job goes back to pending (the reason noted in its error), else it
    fails for good like any final failure. Each change is a compare-and-set on the lease it saw,
    so a heartbeat that lands meanwhile wins.
    """
    expired = list(
        session.scalars(
            select(JobRecord)
            .where(JobRecord.status == "running", JobRecord.lease_expires_at < now)
            .order_by(JobRecord.id)
        )
    )
    reaped: list[int] = []
    for job in expired:
        note = f"lease expired on attempt {job.attempts} of {job.max_attempts}"
        if job.worker:
            note += f" (worker {job.worker})"
        if job.attempts < job.max_attempts:
            if compare_and_set(
                session,
                update(JobRecord)
                .where(
                    JobRecord.id == job.id,
                    JobRecord.status == "running",
                    JobRecord.lease_token == job.lease_token,
                    JobRecord.lease_expires_at < now,
                )
                .values(status="pending", lease_expires_at=None, error=f"{note}; retrying"),
            ):
                reaped.append(job.id)
        elif fail_for_good(
            session=session, job=job, token=job.lease_token, reason=note, now=now, expired_by=now
        ):
            reaped.append(job.id)
    session.commit()
    if reaped:
        log.info("reaped %d job(s) with expired leases: %s", len(reaped), reaped)
    return reaped
