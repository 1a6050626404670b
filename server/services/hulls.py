"""Hulls: their rows and status for reading, and recording a cmc job's result (DESIGN §4)."""

from __future__ import annotations

import statistics
from itertools import combinations

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from client.contract.results import CMCResult, Hull, HullRow, HullStatus
from server.db.models import HullRecord, HullSampleRecord, JobRecord
from server.errors import Invalid
from server.services.finite import require_finite
from server.services.lookup import experiment_record, hull_record
from server.services.status import failure_text, hull_status
from server.services.views import hull_row_view, hull_view

HullKey = tuple[int, int]


def _hull_states(
    session: Session, experiment_id: int
) -> dict[HullKey, tuple[HullStatus, str | None]]:
    """(status, error) of every hull of the experiment, from its trunk, branches and cmc jobs."""
    jobs = list(session.scalars(select(JobRecord).where(JobRecord.experiment_id == experiment_id)))
    trunks = {job.trunk: job for job in jobs if job.kind == "trunk"}
    by_hull: dict[HullKey, dict[str, JobRecord]] = {}
    for job in jobs:
        if job.split_step is not None:
            by_hull.setdefault((job.trunk, job.split_step), {})[job.kind] = job
    states: dict[HullKey, tuple[HullStatus, str | None]] = {}
    for key, kinds in by_hull.items():
        branches, cmc = kinds.get("branches"), kinds.get("cmc")
        status = hull_status(
            branches=branches.status if branches else None, cmc=cmc.status if cmc else None
        )
        error = None
        trunk = trunks.get(key[0])
        # the job whose failure explains this hull's state: its own, else its trunk's
        for cause in (branches, cmc, trunk):
            if cause is not None and cause.status == "failed":
                error = failure_text(cause.kind, cause.trunk, cause.split_step, cause.error)
                break
        states[key] = (status, error)
    return states


def list_hulls(*, session: Session, experiment_id: int) -> list[HullRow]:
    """One row per trunk x split, ordered by trunk, split step."""
    experiment_record(session, experiment_id)
    states = _hull_states(session, experiment_id)
    hulls = session.scalars(
        select(HullRecord)
        .where(HullRecord.experiment_id == experiment_id)
        .order_by(HullRecord.trunk, HullRecord.split_step)
    )
    return [
        hull_row_view(h, *states.get((h.trunk, h.split_step), ("pending", None))) for h in hulls
    ]


def get_hull(
    *, session: Session, experiment_id: int, trunk: int, split_step: int, samples: bool = False
) -> Hull:
    """One hull with its endpoints and distances, and every sample when asked."""
    hull = hull_record(session, experiment_id, trunk, split_step)
    status, error = _hull_states(session, experiment_id).get((trunk, split_step), ("pending", None))
    rows = None
    if samples:
        rows = list(
            session.scalars(
                select(HullSampleRecord)
                .where(HullSampleRecord.hull_id == hull.id)
                .order_by(HullSampleRecord.j)
            )
        )
    return hull_view(hull, status, error, rows)


def _validate(result: CMCResult, branches: int) -> None:
    """Refuse a result that does not describe this hull's P endpoints (422 naming the field)."""
    require_finite(result.model_dump(), "cmc")
    if sorted(e.branch for e in result.endpoints) != list(range(branches)):
        raise Invalid(
            f"endpoints must list branches 0..{branches - 1} once each", field="cmc.endpoints"
        )
    distances = result.endpoint_distances
    if len(distances) != branches or any(len(row) != branches for row in distances):
        raise Invalid(
            f"endpoint_distances must be {branches} x {branches}", field="cmc.endpoint_distances"
        )
    seen: set[int] = set()
    for index, sample in enumerate(result.samples):
        where = f"cmc.samples.{index}"
        if sample.j in seen:
            raise Invalid(f"sample j={sample.j} repeats", field=f"{where}.j")
        seen.add(sample.j)
        if len(sample.weights) != branches:
            raise Invalid(f"weights must have {branches} entries", field=f"{where}.weights")
        if not 0 <= sample.closest < branches:
            raise Invalid(f"closest must lie in [0, {branches})", field=f"{where}.closest")


def _mean(values: list[float]) -> float | None:
    return statistics.fmean(values) if values else None


def record_cmc_result(
    *, session: Session, job: JobRecord, result: CMCResult, branches: int
) -> None:
    """Write the hull's numbers and replace its samples (does not commit).

    Delete-then-insert makes a repeated completion leave exactly one set of samples.
    """
    _validate(result, branches)
    assert job.split_step is not None, "a cmc job always has a split step"
    hull = hull_record(session, job.experiment_id, job.trunk, job.split_step)
    endpoints = sorted(result.endpoints, key=lambda e: e.branch)
    pairs = [result.endpoint_distances[i][j] for i, j in combinations(range(branches), 2)]
    hull.p_conv = result.p_conv
    hull.p_rand = result.p_rand
    hull.p_conv_std = result.p_conv_std
    hull.p_rand_std = result.p_rand_std
    hull.eval_examples = result.eval_examples
    hull.n_samples = len(result.samples)
    hull.endpoints = [e.model_dump(mode="json") for e in endpoints]
    hull.endpoint_distances = [list(row) for row in result.endpoint_distances]
    hull.mean_endpoint_loss = _mean([e.loss for e in endpoints])
    hull.mean_endpoint_distance = _mean(pairs)
    hull.mean_sample_distance = _mean([s.distance for s in result.samples])
    session.execute(delete(HullSampleRecord).where(HullSampleRecord.hull_id == hull.id))
    if result.samples:
        session.execute(
            insert(HullSampleRecord),
            [{"hull_id": hull.id, **s.model_dump(mode="json")} for s in result.samples],
        )
