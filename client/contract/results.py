"""Everything the server answers with, and everything a worker posts back (the wire contract).

Results are typed objects; the tabular ones have `.to_pandas()` (pandas imported only there).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from client.contract.spec import ExperimentSpec

if TYPE_CHECKING:
    import pandas as pd

ExperimentStatus = Literal["pending", "running", "done", "failed", "cancelled"]
JobStatus = Literal["pending", "queued", "running", "done", "failed", "cancelled"]
JobKind = Literal["trunk", "branches", "cmc"]
RunKind = Literal["trunk", "branch"]
HullStatus = Literal["pending", "running", "done", "failed", "cancelled"]

JOB_STATUSES: tuple[str, ...] = ("pending", "queued", "running", "done", "failed", "cancelled")


class WireModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


def _pandas() -> Any:
    """pandas, imported lazily: the client does not need it to talk to the server."""
    try:
        import pandas as pd
    except ImportError as exc:
        raise ImportError(
            "to_pandas() needs pandas: pip install pandas (or lmclab[pandas])"
        ) from exc
    return pd


def _frame(rows: list[dict[str, Any]], columns: list[str]) -> pd.DataFrame:
    return _pandas().DataFrame(rows, columns=columns)


# ---------------------------------------------------------------- experiments


class ExperimentCreated(WireModel):
    id: int


class ExperimentSummary(WireModel):
    id: int
    name: str
    task: str
    status: ExperimentStatus
    created_at: datetime
    progress: dict[str, int] = Field(description="jobs by state")
    error: str | None = Field(default=None, description="reason of the first job failed for good")


class Experiment(ExperimentSummary):
    spec: ExperimentSpec
    steps_per_epoch: int
    split_steps: list[int]


class Job(WireModel):
    id: int
    experiment_id: int
    kind: JobKind
    trunk: int
    split_step: int | None
    status: JobStatus
    attempts: int
    max_attempts: int
    depends_on: list[int]
    worker: str | None
    error: str | None
    info: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class Checkpoint(WireModel):
    run_id: int
    step: int
    sha256: str
    size: int


class Run(WireModel):
    """A trunk (branch = None) or one branch of a hull, with the seeds it trained from."""

    id: int
    experiment_id: int
    kind: RunKind
    trunk: int
    split_step: int | None
    branch: int | None
    init_seed: int | None
    data_seed: int


class Branch(Run):
    endpoint: Checkpoint | None = Field(default=None, description="the branch's final checkpoint")


# ---------------------------------------------------------------- hulls (CMC)


class HullSample(WireModel):
    """One convex sample j of Algorithm 1 and its equal-distance random twin."""

    j: int
    weights: list[float] = Field(description="Dirichlet(1) weights a over the P endpoints")
    closest: int = Field(description="index of the endpoint W_end closest to W_conv")
    distance: float = Field(description="||W_conv - W_end|| = ||W_rand - W_end||")
    loss_conv: float
    loss_end: float
    loss_rand: float
    acc_conv: float
    acc_end: float
    acc_rand: float
    conv_lower: bool = Field(description="I_conv = 1[L(W_conv) < L(W_end)]")
    rand_lower: bool = Field(description="I_rand = 1[L(W_rand) < L(W_end)]")


class Endpoint(WireModel):
    branch: int
    loss: float = Field(description="training loss at W_T^i")
    accuracy: float
    dist_to_split: float = Field(description="||W_k - W_T^i||")
    dist_to_init: float = Field(description="||W_0 - W_T^i||")


class CMCResult(WireModel):
    """What the CMC job posts for one hull (DESIGN §4)."""

    p_conv: float
    p_rand: float
    p_conv_std: float
    p_rand_std: float
    eval_examples: int = Field(description="training examples the losses were averaged over")
    endpoints: list[Endpoint]
    endpoint_distances: list[list[float]] = Field(description="P x P, ||W_T^i - W_T^j||")
    samples: list[HullSample]


class HullRow(WireModel):
    experiment_id: int
    trunk: int
    split_step: int
    split_epoch: float
    status: HullStatus
    p_conv: float | None = None
    p_rand: float | None = None
    p_conv_std: float | None = None
    p_rand_std: float | None = None
    n_samples: int = 0
    mean_endpoint_loss: float | None = None
    mean_endpoint_distance: float | None = Field(default=None, description="mean over pairs i<j")
    mean_sample_distance: float | None = Field(default=None, description="mean ||W_conv - W_end||")
    error: str | None = None


class Hull(HullRow):
    eval_examples: int | None = None
    endpoints: list[Endpoint] = Field(default_factory=list)
    endpoint_distances: list[list[float]] = Field(default_factory=list)
    samples: list[HullSample] | None = Field(default=None, description="with ?samples=true")

    def samples_frame(self) -> pd.DataFrame:
        rows = [s.model_dump() for s in self.samples or []]
        return _frame(rows, list(HullSample.model_fields))

    def to_pandas(self) -> pd.DataFrame:
        """One row per sample when samples were asked for, else the one summary row."""
        if self.samples is not None:
            return self.samples_frame()
        return _frame(
            [self.model_dump(include=set(HullRow.model_fields))], list(HullRow.model_fields)
        )


class HullTable(WireModel):
    rows: list[HullRow]

    def to_pandas(self) -> pd.DataFrame:
        return _frame([r.model_dump() for r in self.rows], list(HullRow.model_fields))


# ---------------------------------------------------------------- metrics (columnar)


class MetricBatch(WireModel):
    """Training-curve rows, columnar: many rows per request. Upserted by (run, step, name)."""

    run_id: list[int]
    step: list[int]
    name: list[str]
    value: list[float]

    @model_validator(mode="after")
    def _equal_lengths(self) -> MetricBatch:
        lengths = {len(self.run_id), len(self.step), len(self.name), len(self.value)}
        if len(lengths) != 1:
            raise ValueError("columns run_id, step, name and value must have equal lengths")
        if any(s < 0 for s in self.step):
            raise ValueError("step must be >= 0")
        return self


class MetricsIngested(WireModel):
    rows: int


class MetricTable(WireModel):
    run_id: list[int] = Field(default_factory=list)
    kind: list[RunKind] = Field(default_factory=list)
    trunk: list[int] = Field(default_factory=list)
    split_step: list[int | None] = Field(default_factory=list)
    branch: list[int | None] = Field(default_factory=list)
    step: list[int] = Field(default_factory=list)
    name: list[str] = Field(default_factory=list)
    value: list[float] = Field(default_factory=list)

    def __len__(self) -> int:
        return len(self.step)

    def to_pandas(self) -> pd.DataFrame:
        return _pandas().DataFrame(self.model_dump())


# ---------------------------------------------------------------- worker protocol (DESIGN §5)


class ClaimRequest(WireModel):
    worker: str = Field(min_length=1, max_length=200)


class JobAssignment(WireModel):
    """What a worker gets when it claims a job: the lease, the spec and the runs it touches."""

    job: Job
    lease_token: str
    lease_seconds: float
    heartbeat_seconds: float
    spec: ExperimentSpec
    runs: list[Run] = Field(description="trunk run first, then this hull's branch runs in order")


class LeaseRequest(WireModel):
    lease_token: str


class LeaseRenewed(WireModel):
    """The answer to a heartbeat: the lease now runs this many seconds from now."""

    lease_seconds: float


class JobCompletion(LeaseRequest):
    cmc: CMCResult | None = Field(default=None, description="required for a cmc job")
    info: dict[str, Any] = Field(default_factory=dict, description="e.g. the training strategy")


class JobFailure(LeaseRequest):
    reason: str = Field(min_length=1)
    transient: bool = Field(default=False, description="retry if attempts are left")


class Health(WireModel):
    status: Literal["ok"]
    version: str
    database: str
    broker: str
