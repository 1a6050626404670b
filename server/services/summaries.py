"""Per-experiment job counts and first failure, read in one pass for any number of experiments."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from client.contract.results import ExperimentStatus
from server.db.models import ExperimentRecord, JobRecord
from server.services.status import experiment_status, failure_text, progress


@dataclass(frozen=True)
class ExperimentState:
    status: ExperimentStatus
    progress: dict[str, int]
    error: str | None


def experiment_states(
    session: Session, experiments: Iterable[ExperimentRecord]
) -> dict[int, ExperimentState]:
    """Status, progress and error of each experiment, derived from its jobs."""
    records = list(experiments)
    ids = [e.id for e in records]
    if not ids:
        return {}
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    for experiment_id, status, count in session.execute(
        select(JobRecord.experiment_id, JobRecord.status, func.count())
        .where(JobRecord.experiment_id.in_(ids))
        .group_by(JobRecord.experiment_id, JobRecord.status)
    ):
        counts[experiment_id][status] = count
    errors: dict[int, str] = {}
    for job in session.scalars(
        select(JobRecord)
        .where(JobRecord.experiment_id.in_(ids), JobRecord.status == "failed")
        .order_by(JobRecord.finished_at, JobRecord.id)
    ):
        errors.setdefault(
            job.experiment_id, failure_text(job.kind, job.trunk, job.split_step, job.error)
        )
    return {
        e.id: ExperimentState(
            status=experiment_status(cancelled=e.cancelled, counts=counts[e.id]),
            progress=progress(counts[e.id]),
            error=errors.get(e.id),
        )
        for e in records
    }
