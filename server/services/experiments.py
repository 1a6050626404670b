"""Experiments: create (expand + dispatch), read, list, cancel; and their jobs, runs, branches."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from client.contract.results import (
    Branch,
    Checkpoint,
    Experiment,
    ExperimentCreated,
    ExperimentSummary,
    Job,
    Run,
)
from client.contract.spec import ExperimentSpec
from server.db.models import (
    ArtifactRecord,
    CheckpointRecord,
    ExperimentRecord,
    JobRecord,
    RunRecord,
)
from server.db.types import utcnow
from server.dispatch import Dispatcher
from server.services.expansion import expand_spec
from server.services.lookup import experiment_record
from server.services.scheduling import dispatch_ready
from server.services.status import UNFINISHED
from server.services.summaries import experiment_states
from server.services.views import checkpoint_view, job_view, run_fields, run_view


def create_experiment(
    *, session: Session, spec: ExperimentSpec, dispatcher: Dispatcher, max_attempts: int
) -> ExperimentCreated:
    """Store the spec and its whole task graph in one transaction, then dispatch the trunks."""
    experiment = expand_spec(session=session, spec=spec, max_attempts=max_attempts)
    session.commit()
    dispatch_ready(session=session, dispatcher=dispatcher, experiment_id=experiment.id)
    return ExperimentCreated(id=experiment.id)


def _summary(session: Session, experiment: ExperimentRecord) -> ExperimentSummary:
    state = experiment_states(session, [experiment])[experiment.id]
    return ExperimentSummary(
        id=experiment.id,
        name=experiment.name,
        task=experiment.task,
        status=state.status,
        created_at=experiment.created_at,
        progress=state.progress,
        error=state.error,
    )


def list_experiments(*, session: Session) -> list[ExperimentSummary]:
    """Every experiment, newest first."""
    experiments = list(
        session.scalars(
            select(ExperimentRecord).order_by(
                ExperimentRecord.created_at.desc(), ExperimentRecord.id.desc()
            )
        )
    )
    states = experiment_states(session, experiments)
    return [
        ExperimentSummary(
            id=e.id,
            name=e.name,
            task=e.task,
            status=states[e.id].status,
            created_at=e.created_at,
            progress=states[e.id].progress,
            error=states[e.id].error,
        )
        for e in experiments
    ]


def _detail(session: Session, experiment: ExperimentRecord) -> Experiment:
    spec = ExperimentSpec.model_validate(experiment.spec)
    return Experiment(
        **_summary(session, experiment).model_dump(),
        spec=spec,
        steps_per_epoch=spec.steps_per_epoch(),
        split_steps=spec.split_steps(),
    )


def get_experiment(*, session: Session, experiment_id: int) -> Experiment:
    return _detail(session, experiment_record(session, experiment_id))


def cancel_experiment(*, session: Session, experiment_id: int) -> Experiment:
    """Flag the experiment and cancel its unfinished jobs; workers learn it at their next post."""
    experiment = experiment_record(session, experiment_id)
    experiment.cancelled = True
    session.execute(
        update(JobRecord)
        .where(JobRecord.experiment_id == experiment_id, JobRecord.status.in_(sorted(UNFINISHED)))
        .values(status="cancelled", finished_at=utcnow(), lease_expires_at=None)
    )
    session.commit()
    return _detail(session, experiment)


def list_jobs(*, session: Session, experiment_id: int) -> list[Job]:
    experiment_record(session, experiment_id)
    jobs = session.scalars(
        select(JobRecord).where(JobRecord.experiment_id == experiment_id).order_by(JobRecord.id)
    )
    return [job_view(job) for job in jobs]


def _run_order(run: RunRecord) -> tuple[int, int, int, int]:
    """Trunk r first, then its hulls' branches by split step and branch."""
    is_branch = 0 if run.kind == "trunk" else 1
    return (run.trunk, is_branch, run.split_step or 0, run.branch or 0)


def list_runs(*, session: Session, experiment_id: int) -> list[Run]:
    experiment_record(session, experiment_id)
    runs = session.scalars(select(RunRecord).where(RunRecord.experiment_id == experiment_id))
    return [run_view(run) for run in sorted(runs, key=_run_order)]


def _endpoints(session: Session, runs: list[RunRecord]) -> dict[int, Checkpoint]:
    """The final checkpoint of each branch whose hull's branch training is done.

    Before that, a branch's latest checkpoint is a resume point, not its endpoint W_T^i.
    """
    if not runs:
        return {}
    experiment_id = runs[0].experiment_id
    done_hulls = set(
        session.execute(
            select(JobRecord.trunk, JobRecord.split_step).where(
                JobRecord.experiment_id == experiment_id,
                JobRecord.kind == "branches",
                JobRecord.status == "done",
            )
        )
    )
    finished = [r.id for r in runs if (r.trunk, r.split_step) in done_hulls]
    if not finished:
        return {}
    latest: dict[int, Checkpoint] = {}
    rows = session.execute(
        select(
            CheckpointRecord.run_id,
            CheckpointRecord.step,
            ArtifactRecord.sha256,
            ArtifactRecord.size,
        )
        .join(ArtifactRecord, ArtifactRecord.sha256 == CheckpointRecord.sha256)
        .where(CheckpointRecord.run_id.in_(finished))
        .order_by(CheckpointRecord.run_id, CheckpointRecord.step)
    )
    for run_id, step, sha256, size in rows:
        latest[run_id] = checkpoint_view(run_id, step, sha256, size)
    return latest


def list_branches(
    *,
    session: Session,
    experiment_id: int,
    trunk: int | None = None,
    split_step: int | None = None,
) -> list[Branch]:
    """Branch runs (optionally of one trunk and/or split step) with their endpoints."""
    experiment_record(session, experiment_id)
    query = select(RunRecord).where(
        RunRecord.experiment_id == experiment_id, RunRecord.kind == "branch"
    )
    if trunk is not None:
        query = query.where(RunRecord.trunk == trunk)
    if split_step is not None:
        query = query.where(RunRecord.split_step == split_step)
    runs = sorted(session.scalars(query), key=_run_order)
    endpoints = _endpoints(session, runs)
    return [Branch(**run_fields(run), endpoint=endpoints.get(run.id)) for run in runs]
