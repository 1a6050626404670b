"""Experiment and hull statuses, derived from job states on every read (never stored).

Deriving them means they cannot drift from the jobs: a job changing state is the only write.
"""

from __future__ import annotations

from collections.abc import Mapping

from client.contract.results import JOB_STATUSES, ExperimentStatus, HullStatus

ACTIVE = frozenset({"queued", "running"})
UNFINISHED = frozenset({"pending", "queued", "running"})


def progress(counts: Mapping[str, int]) -> dict[str, int]:
    """Jobs by state, with all six states present."""
    return {state: int(counts.get(state, 0)) for state in JOB_STATUSES}


def experiment_status(*, cancelled: bool, counts: Mapping[str, int]) -> ExperimentStatus:
    """cancelled > done (all done) > running (work in flight or partly done) > pending > failed.

    "failed" only once nothing can run any more: dependents of a failed job are cancelled, so
    other hulls keep the experiment running until they finish.
    """
    if cancelled:
        return "cancelled"
    total = sum(counts.values())
    done = counts.get("done", 0)
    pending = counts.get("pending", 0)
    if total == 0 or pending == total:
        return "pending"
    if done == total:
        return "done"
    if any(counts.get(state, 0) for state in ACTIVE) or pending:
        return "running"
    if counts.get("failed", 0):
        return "failed"
    return "cancelled"


def hull_status(*, branches: str | None, cmc: str | None) -> HullStatus:
    """A hull's status from the states of its branches job and its cmc job."""
    states = {branches, cmc}
    if "failed" in states:
        return "failed"
    if cmc == "done":
        return "done"
    if states & ACTIVE:
        return "running"
    if cmc == "cancelled":
        return "cancelled"
    return "pending"


def job_label(kind: str, trunk: int, split_step: int | None) -> str:
    """How errors name a job, e.g. "branches (trunk 0, split 8)"."""
    where = f"trunk {trunk}" if split_step is None else f"trunk {trunk}, split {split_step}"
    return f"{kind} ({where})"


def failure_text(kind: str, trunk: int, split_step: int | None, error: str | None) -> str:
    return f"{job_label(kind, trunk, split_step)}: {error or 'failed'}"
