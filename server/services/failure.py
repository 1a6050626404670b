"""A job failing for good: its dependents cancelled and the half-written output of its runs gone.

Deleting the metric rows and checkpoints of the runs the job wrote (all in the failing
transaction) leaves no half-trained curves or resume points that look like results.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from server.db.cas import compare_and_set
from server.db.models import CheckpointRecord, JobRecord, MetricRecord, RunRecord
from server.services.status import UNFINISHED, job_label


def written_run_ids(session: Session, job: JobRecord) -> list[int]:
    """The runs whose metrics and checkpoints `job` writes (a cmc job writes none)."""
    query = select(RunRecord.id).where(
        RunRecord.experiment_id == job.experiment_id, RunRecord.trunk == job.trunk
    )
    if job.kind == "trunk":
        return list(session.scalars(query.where(RunRecord.kind == "trunk")))
    if job.kind == "branches":
        return list(
            session.scalars(
                query.where(RunRecord.kind == "branch", RunRecord.split_step == job.split_step)
            )
        )
    return []


def dependents(session: Session, job: JobRecord) -> list[int]:
    """Every job that depends on `job`, directly or through others."""
    rows = session.execute(
        select(JobRecord.id, JobRecord.depends_on).where(
            JobRecord.experiment_id == job.experiment_id
        )
    ).all()
    children: dict[int, list[int]] = defaultdict(list)
    for row in rows:
        for parent in row.depends_on or []:
            children[parent].append(row.id)
    found: list[int] = []
    frontier = [job.id]
    while frontier:
        nxt = [child for parent in frontier for child in children[parent] if child not in found]
        found.extend(nxt)
        frontier = nxt
    return found


def fail_for_good(
    *,
    session: Session,
    job: JobRecord,
    token: str | None,
    reason: str,
    now: datetime,
    expired_by: datetime | None = None,
) -> bool:
    """Mark the running `job` (held by `token`) failed and clean up; False if it changed meanwhile.

    Does not commit: the caller commits the failure and its consequences together.
    """
    query = update(JobRecord).where(
        JobRecord.id == job.id, JobRecord.status == "running", JobRecord.lease_token == token
    )
    if expired_by is not None:
        query = query.where(JobRecord.lease_expires_at < expired_by)
    failed = query.values(status="failed", error=reason, finished_at=now, lease_expires_at=None)
    if not compare_and_set(session, failed):
        return False
    cancelled = dependents(session, job)
    if cancelled:
        session.execute(
            update(JobRecord)
            .where(JobRecord.id.in_(cancelled), JobRecord.status.in_(sorted(UNFINISHED)))
            .values(
                status="cancelled",
                finished_at=now,
                error=f"cancelled: {job_label(job.kind, job.trunk, job.split_step)} failed",
            )
        )
    runs = written_run_ids(session, job)
    if runs:
        session.execute(delete(MetricRecord).where(MetricRecord.run_id.in_(runs)))
        session.execute(delete(CheckpointRecord).where(CheckpointRecord.run_id.in_(runs)))
    session.expire(job)
    return True
