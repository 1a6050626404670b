"""Training curves: idempotent columnar ingest and a columnar, filtered read."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from client.contract.results import MetricBatch, MetricsIngested, MetricTable, RunKind
from server.db.models import MetricRecord, RunRecord
from server.db.upsert import upsert
from server.errors import NotFound
from server.services.finite import require_finite
from server.services.lookup import experiment_record


def ingest_metrics(*, session: Session, batch: MetricBatch) -> MetricsIngested:
    """Upsert the rows by (run, step, name): posting a batch twice leaves each row once.

    Within one batch a repeated key keeps its last value. Unknown runs reject the whole batch.
    """
    require_finite(batch.value, "value")
    run_ids = set(batch.run_id)
    known = set(session.scalars(select(RunRecord.id).where(RunRecord.id.in_(run_ids))))
    missing = sorted(run_ids - known)
    if missing:
        raise NotFound(f"runs not found: {missing}")
    rows: dict[tuple[int, int, str], float] = {}
    for run_id, step, name, value in zip(
        batch.run_id, batch.step, batch.name, batch.value, strict=True
    ):
        rows[(run_id, step, name)] = value
    upsert(
        session,
        MetricRecord,
        [{"run_id": r, "step": s, "name": n, "value": v} for (r, s, n), v in rows.items()],
        key=("run_id", "step", "name"),
        update=("value",),
    )
    session.commit()
    return MetricsIngested(rows=len(rows))


def query_metrics(
    *,
    session: Session,
    experiment_id: int,
    names: Sequence[str] | None = None,
    kind: RunKind | None = None,
    trunk: int | None = None,
    split_step: int | None = None,
    branch: int | None = None,
) -> MetricTable:
    """The experiment's metric rows, filtered, ordered by run, name, step."""
    experiment_record(session, experiment_id)
    query = (
        select(
            MetricRecord.run_id,
            RunRecord.kind,
            RunRecord.trunk,
            RunRecord.split_step,
            RunRecord.branch,
            MetricRecord.step,
            MetricRecord.name,
            MetricRecord.value,
        )
        .join(RunRecord, RunRecord.id == MetricRecord.run_id)
        .where(RunRecord.experiment_id == experiment_id)
        .order_by(MetricRecord.run_id, MetricRecord.name, MetricRecord.step)
    )
    if names:
        query = query.where(MetricRecord.name.in_(list(names)))
    if kind is not None:
        query = query.where(RunRecord.kind == kind)
    if trunk is not None:
        query = query.where(RunRecord.trunk == trunk)
    if split_step is not None:
        query = query.where(RunRecord.split_step == split_step)
    if branch is not None:
        query = query.where(RunRecord.branch == branch)
    columns: dict[str, list[object]] = {name: [] for name in MetricTable.model_fields}
    for row in session.execute(query):
        for name, value in row._mapping.items():
            columns[name].append(value)
    return MetricTable.model_validate(columns)
