"""Fetch one record by key or raise NotFound, so every service words a missing id the same way."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import ExperimentRecord, HullRecord, JobRecord, RunRecord
from server.errors import NotFound


def experiment_record(session: Session, experiment_id: int) -> ExperimentRecord:
    experiment = session.get(ExperimentRecord, experiment_id)
    if experiment is None:
        raise NotFound(f"experiment {experiment_id} not found")
    return experiment


def run_record(session: Session, run_id: int) -> RunRecord:
    run = session.get(RunRecord, run_id)
    if run is None:
        raise NotFound(f"run {run_id} not found")
    return run


def job_record(session: Session, job_id: int) -> JobRecord:
    job = session.get(JobRecord, job_id)
    if job is None:
        raise NotFound(f"job {job_id} not found")
    return job


def hull_record(session: Session, experiment_id: int, trunk: int, split_step: int) -> HullRecord:
    hull = session.scalars(
        select(HullRecord).where(
            HullRecord.experiment_id == experiment_id,
            HullRecord.trunk == trunk,
            HullRecord.split_step == split_step,
        )
    ).one_or_none()
    if hull is None:
        experiment_record(session, experiment_id)  # a missing experiment says so
        raise NotFound(
            f"experiment {experiment_id} has no hull at trunk {trunk}, split step {split_step}"
        )
    return hull


def trunk_run(session: Session, experiment_id: int, trunk: int) -> RunRecord:
    return session.scalars(
        select(RunRecord).where(
            RunRecord.experiment_id == experiment_id,
            RunRecord.kind == "trunk",
            RunRecord.trunk == trunk,
        )
    ).one()


def branch_runs(
    session: Session, experiment_id: int, trunk: int, split_step: int
) -> list[RunRecord]:
    """The P branch runs of one hull, in branch order."""
    return list(
        session.scalars(
            select(RunRecord)
            .where(
                RunRecord.experiment_id == experiment_id,
                RunRecord.kind == "branch",
                RunRecord.trunk == trunk,
                RunRecord.split_step == split_step,
            )
            .order_by(RunRecord.branch)
        )
    )
