"""What every job gets (its lease, the spec, the runs, the client) and the errors it may raise."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import torch
from pydantic import BaseModel, Field

from client.contract import CMCResult, ExperimentSpec, JobAssignment, MetricBatch, Run
from client.lab import LabClient
from client.settings import Settings


class JobError(Exception):
    """A failure that another attempt would repeat (diverged loss, missing data): fail for good."""


class LeaseLost(Exception):
    """The server took the lease back (cancelled, or re-claimed): stop without posting."""


class JobOutcome(BaseModel):
    """What a job hands back to the runner, which posts it as the job's completion."""

    cmc: CMCResult | None = None
    info: dict[str, Any] = Field(default_factory=dict)


@dataclass
class JobContext:
    assignment: JobAssignment
    client: LabClient
    settings: Settings
    device: torch.device
    lease_lost: threading.Event = field(default_factory=threading.Event)

    @property
    def spec(self) -> ExperimentSpec:
        return self.assignment.spec

    @property
    def trunk_run(self) -> Run:
        return self.assignment.runs[0]

    @property
    def branch_runs(self) -> list[Run]:
        return self.assignment.runs[1:]

    def check_lease(self) -> None:
        if self.lease_lost.is_set():
            raise LeaseLost(f"job {self.assignment.job.id}")


class MetricSink:
    """Buffers training-curve rows and posts them columnar, many rows per request."""

    def __init__(self, client: LabClient, *, flush_rows: int = 2000) -> None:
        self._client = client
        self._flush_rows = flush_rows
        self._batch: dict[str, list[Any]] = {"run_id": [], "step": [], "name": [], "value": []}

    def add(self, run_id: int, step: int, name: str, value: float) -> None:
        for key, item in zip(self._batch, (run_id, step, name, value), strict=True):
            self._batch[key].append(item)
        if len(self._batch["step"]) >= self._flush_rows:
            self.flush()

    def flush(self) -> None:
        if self._batch["step"]:
            self._client.post_metrics(MetricBatch(**self._batch))
            self._batch = {key: [] for key in self._batch}
