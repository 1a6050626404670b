"""Training curves: columnar bulk upsert and columnar read."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from client.contract.results import MetricBatch, MetricsIngested, MetricTable, RunKind
from server.api.deps import SessionDep
from server.services import metrics as service

router = APIRouter(tags=["metrics"])


@router.post("/metrics")
def ingest_metrics(batch: MetricBatch, session: SessionDep) -> MetricsIngested:
    """Upsert rows by (run_id, step, name); posting the same batch twice stores it once."""
    return service.ingest_metrics(session=session, batch=batch)


@router.get("/experiments/{experiment_id}/metrics")
def query_metrics(
    experiment_id: int,
    session: SessionDep,
    name: Annotated[list[str] | None, Query(description="repeat for several names")] = None,
    kind: RunKind | None = None,
    trunk: int | None = None,
    split_step: int | None = None,
    branch: int | None = None,
) -> MetricTable:
    """The experiment's metric rows, ordered by run, name, step."""
    return service.query_metrics(
        session=session,
        experiment_id=experiment_id,
        names=name,
        kind=kind,
        trunk=trunk,
        split_step=split_step,
        branch=branch,
    )
