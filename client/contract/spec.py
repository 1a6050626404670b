"""The experiment spec (DESIGN §3): what a researcher submits, validated here for everyone.

The server validates a POSTed spec with these models (422 naming the field on error) and the
worker reads the stored spec back through them, so both sides agree on every default.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from client.contract.tasks import BUILTIN_TASKS, get_task_info


class StrictModel(BaseModel):
    """Unknown fields are an error: a typo in a spec must not silently fall back to a default."""

    model_config = ConfigDict(extra="forbid")


class OptimizerSpec(StrictModel):
    """Constant learning rate, as in the paper."""

    name: Literal["sgd", "adam"] = "sgd"
    lr: float = Field(gt=0, description="learning rate, constant over training")
    momentum: float = Field(default=0.0, ge=0, lt=1, description="SGD momentum (ignored by adam)")
    weight_decay: float = Field(default=0.0, ge=0)
    betas: tuple[float, float] = Field(default=(0.9, 0.999), description="Adam's betas")
    eps: float = Field(default=1e-8, gt=0, description="Adam's epsilon")

    @field_validator("lr")
    @classmethod
    def _finite_lr(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError("must be a finite number")
        return value

    @field_validator("betas")
    @classmethod
    def _betas_in_range(cls, value: tuple[float, float]) -> tuple[float, float]:
        if not all(0 <= b < 1 for b in value):
            raise ValueError("each beta must lie in [0, 1)")
        return value


class SplitsSpec(StrictModel):
    """Split points k, given in epochs of trunk training (fractions round to the nearest step)."""

    epochs: list[float] = Field(min_length=1, description="split epochs, each >= 0, no repeats")

    @field_validator("epochs")
    @classmethod
    def _non_negative_unique(cls, value: list[float]) -> list[float]:
        for epoch in value:
            if not math.isfinite(epoch) or epoch < 0:
                raise ValueError(f"split epoch {epoch} must be a finite number >= 0")
        repeated = sorted({e for e in value if value.count(e) > 1})
        if repeated:
            raise ValueError(f"split epochs repeat: {repeated}")
        return value


class BranchesSpec(StrictModel):
    """P branches per hull, each trained T epochs after the split with its own data order."""

    count: int = Field(ge=2, description="P, branches per hull (a hull needs at least 2)")
    epochs: float = Field(gt=0, description="T, epochs each branch trains after the split")
    optimizer_state: Literal["reset", "carry"] = Field(
        default="reset", description="reset: fresh optimizer at the split; carry: the trunk's state"
    )


class EvalEverySpec(StrictModel):
    steps: int = Field(default=200, ge=1, description="training-curve rows every this many steps")


class CMCSpec(StrictModel):
    samples: int = Field(default=1000, ge=1, description="J, convex-hull samples per hull")


class AnalysesSpec(StrictModel):
    """The analyses to run. Only those listed here exist yet; any other name is an error."""

    cmc: CMCSpec = Field(default_factory=CMCSpec)


class DataSpec(StrictModel):
    """Which part of the task's data to use; by default all of it."""

    train_size: int | None = Field(
        default=None, ge=1, description="use the first N training examples (default: the task's)"
    )
    test_size: int | None = Field(default=None, ge=1, description="use the first N test examples")


class ExperimentSpec(StrictModel):
    """One experiment: R trunks, split at every split point into P branches, then analysed."""

    name: str = Field(min_length=1, max_length=200)
    task: str = Field(description="a registered task: " + ", ".join(sorted(BUILTIN_TASKS)))
    optimizer: OptimizerSpec
    batch_size: int = Field(default=128, ge=1)
    trunks: int = Field(default=1, ge=1, description="R, trunks (hulls per split)")
    splits: SplitsSpec
    branches: BranchesSpec
    eval_every: EvalEverySpec = Field(default_factory=EvalEverySpec)
    analyses: AnalysesSpec = Field(default_factory=AnalysesSpec)
    data: DataSpec = Field(default_factory=DataSpec)
    seed: int = Field(default=0, ge=0, lt=2**63)

    @field_validator("task")
    @classmethod
    def _known_task(cls, value: str) -> str:
        get_task_info(value)  # raises ValueError naming the registered tasks
        return value

    @model_validator(mode="after")
    def _fits_the_data(self) -> ExperimentSpec:
        info = get_task_info(self.task)
        n_train = self.data.train_size or info.train_size
        if self.batch_size > n_train:
            raise ValueError(
                f"batch_size {self.batch_size} exceeds the {n_train} training examples "
                "(an epoch would have no step)"
            )
        steps = [self.split_step(epoch) for epoch in self.splits.epochs]
        for i, step in enumerate(steps):
            if step in steps[:i]:
                raise ValueError(
                    f"splits.epochs: {self.splits.epochs[steps.index(step)]} and "
                    f"{self.splits.epochs[i]} both round to step {step}"
                )
        if self.branch_steps() < 1:
            raise ValueError("branches.epochs rounds to 0 steps")
        return self

    # ---- derived quantities, computed the same way by server and worker ----

    def train_size(self) -> int:
        return self.data.train_size or get_task_info(self.task).train_size

    def steps_per_epoch(self) -> int:
        """An epoch is floor(N / batch) steps: the last partial batch is dropped."""
        return self.train_size() // self.batch_size

    def split_step(self, epoch: float) -> int:
        """A fractional split epoch rounds to the nearest step."""
        return round(epoch * self.steps_per_epoch())

    def split_steps(self) -> list[int]:
        """Split steps in the order the spec wrote their epochs."""
        return [self.split_step(epoch) for epoch in self.splits.epochs]

    def branch_steps(self) -> int:
        return round(self.branches.epochs * self.steps_per_epoch())

    def trunk_steps(self) -> int:
        """The trunk trains until its last split point."""
        return max(self.split_steps())
