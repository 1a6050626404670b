"""Database records -> contract models (the only place that knows both shapes)."""

from __future__ import annotations

from typing import Any, cast

from client.contract.results import (
    Checkpoint,
    Endpoint,
    Hull,
    HullRow,
    HullSample,
    HullStatus,
    Job,
    JobKind,
    JobStatus,
    Run,
    RunKind,
)
from server.db.models import HullRecord, HullSampleRecord, JobRecord, RunRecord


def job_view(job: JobRecord) -> Job:
    return Job(
        id=job.id,
        experiment_id=job.experiment_id,
        kind=cast(JobKind, job.kind),
        trunk=job.trunk,
        split_step=job.split_step,
        status=cast(JobStatus, job.status),
        attempts=job.attempts,
        max_attempts=job.max_attempts,
        depends_on=list(job.depends_on or []),
        worker=job.worker,
        error=job.error,
        info=dict(job.info or {}),
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
    )


def run_fields(run: RunRecord) -> dict[str, Any]:
    return {
        "id": run.id,
        "experiment_id": run.experiment_id,
        "kind": cast(RunKind, run.kind),
        "trunk": run.trunk,
        "split_step": run.split_step,
        "branch": run.branch,
        "init_seed": run.init_seed,
        "data_seed": run.data_seed,
    }


def run_view(run: RunRecord) -> Run:
    return Run(**run_fields(run))


def checkpoint_view(run_id: int, step: int, sha256: str, size: int) -> Checkpoint:
    return Checkpoint(run_id=run_id, step=step, sha256=sha256, size=size)


def hull_row_fields(hull: HullRecord, status: HullStatus, error: str | None) -> dict[str, Any]:
    return {
        "experiment_id": hull.experiment_id,
        "trunk": hull.trunk,
        "split_step": hull.split_step,
        "split_epoch": hull.split_epoch,
        "status": status,
        "p_conv": hull.p_conv,
        "p_rand": hull.p_rand,
        "p_conv_std": hull.p_conv_std,
        "p_rand_std": hull.p_rand_std,
        "n_samples": hull.n_samples,
        "mean_endpoint_loss": hull.mean_endpoint_loss,
        "mean_endpoint_distance": hull.mean_endpoint_distance,
        "mean_sample_distance": hull.mean_sample_distance,
        "error": error,
    }


def hull_row_view(hull: HullRecord, status: HullStatus, error: str | None) -> HullRow:
    return HullRow(**hull_row_fields(hull, status, error))


def sample_view(sample: HullSampleRecord) -> HullSample:
    return HullSample(
        j=sample.j,
        weights=list(sample.weights),
        closest=sample.closest,
        distance=sample.distance,
        loss_conv=sample.loss_conv,
        loss_end=sample.loss_end,
        loss_rand=sample.loss_rand,
        acc_conv=sample.acc_conv,
        acc_end=sample.acc_end,
        acc_rand=sample.acc_rand,
        conv_lower=sample.conv_lower,
        rand_lower=sample.rand_lower,
    )


def hull_view(
    hull: HullRecord,
    status: HullStatus,
    error: str | None,
    samples: list[HullSampleRecord] | None,
) -> Hull:
    return Hull(
        **hull_row_fields(hull, status, error),
        eval_examples=hull.eval_examples,
        endpoints=[Endpoint.model_validate(e) for e in hull.endpoints or []],
        endpoint_distances=[list(row) for row in hull.endpoint_distances or []],
        samples=None if samples is None else [sample_view(s) for s in samples],
    )
