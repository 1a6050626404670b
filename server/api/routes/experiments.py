"""Experiments and what hangs off them: jobs, runs, branches."""

from __future__ import annotations

from fastapi import APIRouter, status

from client.contract.results import (
    Branch,
    Experiment,
    ExperimentCreated,
    ExperimentSummary,
    Job,
    Run,
)
from client.contract.spec import ExperimentSpec
from server.api.deps import DispatcherDep, SessionDep, SettingsDep
from server.services import experiments as service

router = APIRouter(prefix="/experiments", tags=["experiments"])


@router.post("", status_code=status.HTTP_201_CREATED)
def create_experiment(
    spec: ExperimentSpec, session: SessionDep, dispatcher: DispatcherDep, settings: SettingsDep
) -> ExperimentCreated:
    """Validate the spec, expand it into runs, jobs and hulls, and dispatch the trunks."""
    return service.create_experiment(
        session=session, spec=spec, dispatcher=dispatcher, max_attempts=settings.max_attempts
    )


@router.get("")
def list_experiments(session: SessionDep) -> list[ExperimentSummary]:
    """Every experiment, newest first."""
    return service.list_experiments(session=session)


@router.get("/{experiment_id}")
def get_experiment(experiment_id: int, session: SessionDep) -> Experiment:
    return service.get_experiment(session=session, experiment_id=experiment_id)


@router.post("/{experiment_id}/cancel")
def cancel_experiment(experiment_id: int, session: SessionDep) -> Experiment:
    """Cancel every pending, queued or running job; running workers stop at their next post."""
    return service.cancel_experiment(session=session, experiment_id=experiment_id)


@router.get("/{experiment_id}/jobs")
def list_jobs(experiment_id: int, session: SessionDep) -> list[Job]:
    return service.list_jobs(session=session, experiment_id=experiment_id)


@router.get("/{experiment_id}/runs")
def list_runs(experiment_id: int, session: SessionDep) -> list[Run]:
    return service.list_runs(session=session, experiment_id=experiment_id)


@router.get("/{experiment_id}/branches")
def list_branches(
    experiment_id: int,
    session: SessionDep,
    trunk: int | None = None,
    split_step: int | None = None,
) -> list[Branch]:
    """Branch runs with their seeds and, once trained, their endpoint checkpoints."""
    return service.list_branches(
        session=session, experiment_id=experiment_id, trunk=trunk, split_step=split_step
    )
