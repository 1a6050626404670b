"""Jobs by kind: each takes a JobContext (lease, spec, runs, client) and returns a JobOutcome."""

from __future__ import annotations

from collections.abc import Callable

from worker.jobs.branches import run_branches
from worker.jobs.cmc import run_cmc
from worker.jobs.context import JobContext, JobOutcome
from worker.jobs.trunk import run_trunk

JobFn = Callable[[JobContext], JobOutcome]

JOBS: dict[str, JobFn] = {
    "trunk": run_trunk,
    "branches": run_branches,
    "cmc": run_cmc,
}


def get_job(kind: str) -> JobFn:
    """The job function of `kind`; the error names the kinds that exist."""
    try:
        return JOBS[kind]
    except KeyError:
        raise ValueError(f"unknown job kind {kind!r}; known: {', '.join(sorted(JOBS))}") from None
