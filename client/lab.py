"""`LabClient`: the thin Python client of an lmclab server, used by researchers and by workers.

Every call is one HTTP request (wait() polls); answers are the typed models of client.contract.
Connection failures and 502/503/504 are retried a few times with backoff, because workers must
ride out a server restart; every other error maps onto the exception tree of client.errors.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import httpx
import yaml
from pydantic import BaseModel, TypeAdapter

from client.contract import (
    Branch,
    Checkpoint,
    Experiment,
    ExperimentCreated,
    ExperimentSpec,
    ExperimentSummary,
    Health,
    Hull,
    HullTable,
    Job,
    JobAssignment,
    JobCompletion,
    JobFailure,
    MetricBatch,
    MetricTable,
    Run,
)
from client.contract.results import HullRow, MetricsIngested
from client.errors import (
    Conflict,
    LabError,
    NotFound,
    ServerError,
    ServerUnreachable,
    Timeout,
    Unauthorized,
    ValidationFailed,
)

M = TypeVar("M", bound=BaseModel)
FINISHED = ("done", "failed", "cancelled")
_RETRY_STATUS = {502, 503, 504}


def load_spec(source: ExperimentSpec | Mapping[str, Any] | str | Path) -> dict[str, Any]:
    """A spec as a JSON-able dict, from a model, a dict, or a YAML/JSON file path."""
    if isinstance(source, ExperimentSpec):
        return source.model_dump(mode="json")
    if isinstance(source, Mapping):
        return dict(source)
    path = Path(source)
    if not path.is_file():
        raise FileNotFoundError(f"spec file not found: {path}")
    text = path.read_text()
    data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a spec must be a mapping, got {type(data).__name__}")
    return data


class LabClient:
    """Talks to one lmclab server. `base_url` defaults to LMCLAB_SERVER_URL's default."""

    def __init__(
        self,
        base_url: str = "http://127.0.0.1:8000",
        token: str | None = None,
        *,
        timeout: float = 60.0,
        retries: int = 5,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.retries = retries
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(
            base_url=self.base_url + "/api/v1",
            headers=headers,
            timeout=timeout,
            transport=transport,
        )

    # ------------------------------------------------------------------ plumbing

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> LabClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        delay = 0.2
        for attempt in range(self.retries + 1):
            try:
                response = self._http.request(method, path, **kwargs)
            except httpx.TransportError as exc:
                if attempt == self.retries:
                    raise ServerUnreachable(
                        f"no lmclab server answered at {self.base_url} ({exc}); "
                        "start one with `lmclab server` or set LMCLAB_SERVER_URL"
                    ) from exc
            else:
                if response.status_code not in _RETRY_STATUS or attempt == self.retries:
                    _raise_for_status(response)
                    return response
            time.sleep(delay)
            delay = min(delay * 2, 5.0)
        raise AssertionError("unreachable")  # pragma: no cover

    def _get(self, path: str, model: type[M], **params: Any) -> M:
        response = self._request("GET", path, params=_drop_none(params))
        return model.model_validate(response.json())

    def _get_list(self, path: str, model: type[M], **params: Any) -> list[M]:
        response = self._request("GET", path, params=_drop_none(params))
        return TypeAdapter(list[model]).validate_python(response.json())  # type: ignore[valid-type]

    def _post(self, path: str, body: BaseModel | dict[str, Any], model: type[M]) -> M:
        payload = body.model_dump(mode="json") if isinstance(body, BaseModel) else body
        response = self._request("POST", path, json=payload)
        return model.model_validate(response.json())

    # ------------------------------------------------------------------ experiments

    def health(self) -> Health:
        return self._get("/health", Health)

    def submit(self, spec: ExperimentSpec | Mapping[str, Any] | str | Path) -> int:
        """Submit a spec (a model, a dict, or a YAML/JSON path); returns the experiment id."""
        return self._post("/experiments", load_spec(spec), ExperimentCreated).id

    def get_experiment(self, experiment_id: int) -> Experiment:
        return self._get(f"/experiments/{experiment_id}", Experiment)

    def list_experiments(self) -> list[ExperimentSummary]:
        return self._get_list("/experiments", ExperimentSummary)

    def cancel(self, experiment_id: int) -> Experiment:
        return self._post(f"/experiments/{experiment_id}/cancel", {}, Experiment)

    def list_jobs(self, experiment_id: int) -> list[Job]:
        return self._get_list(f"/experiments/{experiment_id}/jobs", Job)

    def list_runs(self, experiment_id: int) -> list[Run]:
        return self._get_list(f"/experiments/{experiment_id}/runs", Run)

    def list_branches(
        self, experiment_id: int, *, trunk: int | None = None, split_step: int | None = None
    ) -> list[Branch]:
        return self._get_list(
            f"/experiments/{experiment_id}/branches", Branch, trunk=trunk, split_step=split_step
        )

    def wait(
        self,
        experiment_id: int,
        progress: bool = True,
        timeout: float | None = None,
        poll_seconds: float = 1.0,
    ) -> Experiment:
        """Block until the experiment is done, failed or cancelled; a progress bar on a terminal."""
        deadline = None if timeout is None else time.monotonic() + timeout
        bar: _Progress | None = None
        if progress:
            bar = _ProgressBar(experiment_id) if sys.stderr.isatty() else _ProgressLines()
        try:
            while True:
                experiment = self.get_experiment(experiment_id)
                if bar is not None:
                    bar.update(experiment)
                if experiment.status in FINISHED:
                    return experiment
                if deadline is not None and time.monotonic() > deadline:
                    raise Timeout(
                        f"experiment {experiment_id} still {experiment.status} after {timeout} s "
                        f"(jobs: {experiment.progress})"
                    )
                time.sleep(poll_seconds)
        finally:
            if bar is not None:
                bar.close()

    # ------------------------------------------------------------------ hulls and metrics

    def list_hulls(self, experiment_id: int) -> HullTable:
        rows = self._get_list(f"/experiments/{experiment_id}/hulls", HullRow)
        return HullTable(rows=rows)

    def get_hull(
        self,
        experiment_id: int,
        split: float | None = None,
        trunk: int = 0,
        samples: bool = False,
        *,
        split_step: int | None = None,
    ) -> Hull:
        """One hull: `split` is the split epoch as the spec wrote it; `split_step=` picks a step."""
        if (split is None) == (split_step is None):
            raise ValueError("give exactly one of split (an epoch of the spec) or split_step")
        if split_step is None:
            experiment = self.get_experiment(experiment_id)
            epochs = experiment.spec.splits.epochs
            wanted = float(split)  # type: ignore[arg-type]
            matches = [i for i, e in enumerate(epochs) if abs(e - wanted) < 1e-9]
            if not matches:
                raise NotFound(
                    f"experiment {experiment_id} has no split at epoch {split}; "
                    f"its split epochs are {epochs}",
                    status_code=404,
                )
            split_step = experiment.split_steps[matches[0]]
        return self._get(
            f"/experiments/{experiment_id}/hulls/{trunk}/{split_step}",
            Hull,
            samples=str(samples).lower(),
        )

    def get_metrics(
        self,
        experiment_id: int,
        *,
        name: str | None = None,
        kind: str | None = None,
        trunk: int | None = None,
        split_step: int | None = None,
        branch: int | None = None,
    ) -> MetricTable:
        return self._get(
            f"/experiments/{experiment_id}/metrics",
            MetricTable,
            name=name,
            kind=kind,
            trunk=trunk,
            split_step=split_step,
            branch=branch,
        )

    def post_metrics(self, batch: MetricBatch) -> int:
        """Bulk-ingest training-curve rows (columnar); returns how many rows were written."""
        return self._post("/metrics", batch, MetricsIngested).rows

    # ------------------------------------------------------------------ checkpoints

    def list_checkpoints(self, run_id: int) -> list[Checkpoint]:
        return self._get_list(f"/runs/{run_id}/checkpoints", Checkpoint)

    def upload_checkpoint(self, run_id: int, step: int, data: bytes) -> Checkpoint:
        response = self._request(
            "PUT",
            f"/runs/{run_id}/checkpoints/{step}",
            content=data,
            headers={"Content-Type": "application/octet-stream"},
        )
        return Checkpoint.model_validate(response.json())

    def download_checkpoint(self, run_id: int, step: int) -> bytes:
        return self._request("GET", f"/runs/{run_id}/checkpoints/{step}").content

    def download_artifact(self, sha256: str) -> bytes:
        return self._request("GET", f"/artifacts/{sha256}").content

    # ------------------------------------------------------------------ worker protocol

    def claim_job(self, job_id: int, worker: str) -> JobAssignment | None:
        """Take a job's lease; None when it is not ours to run (done, cancelled, leased)."""
        try:
            return self._post(f"/worker/jobs/{job_id}/claim", {"worker": worker}, JobAssignment)
        except Conflict:
            return None

    def heartbeat(self, job_id: int, lease_token: str) -> bool:
        """Renew a lease; False when it was lost (expired and re-claimed, or cancelled)."""
        try:
            self._request(
                "POST", f"/worker/jobs/{job_id}/heartbeat", json={"lease_token": lease_token}
            )
        except Conflict:
            return False
        return True

    def complete_job(self, job_id: int, completion: JobCompletion) -> Job:
        return self._post(f"/worker/jobs/{job_id}/complete", completion, Job)

    def fail_job(self, job_id: int, failure: JobFailure) -> Job:
        return self._post(f"/worker/jobs/{job_id}/fail", failure, Job)


def _drop_none(params: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if v is not None}


def _raise_for_status(response: httpx.Response) -> None:
    code = response.status_code
    if code < 400:
        return
    try:
        detail: Any = response.json().get("detail")
    except (ValueError, AttributeError):
        detail = response.text
    if code == 422 and isinstance(detail, list):
        raise ValidationFailed(detail, status_code=code)
    message = detail if isinstance(detail, str) else json.dumps(detail)
    if code == 404:
        raise NotFound(message, status_code=code)
    if code == 409:
        raise Conflict(message, status_code=code)
    if code in (401, 403):
        raise Unauthorized(message, status_code=code)
    if code == 422:
        raise ValidationFailed([{"field": None, "message": message}], status_code=code)
    if code >= 500:
        raise ServerError(f"server error {code}: {message}", status_code=code)
    raise LabError(f"HTTP {code}: {message}", status_code=code)


def _finished_jobs(experiment: Experiment) -> tuple[int, int]:
    counts = experiment.progress
    return sum(counts.get(s, 0) for s in FINISHED), sum(counts.values())


class _Progress:
    def update(self, experiment: Experiment) -> None: ...

    def close(self) -> None: ...


class _ProgressLines(_Progress):
    """Off a terminal: one line on stderr whenever the jobs' states change."""

    def __init__(self) -> None:
        self._last: dict[str, int] | None = None
        self._started = time.monotonic()

    def update(self, experiment: Experiment) -> None:
        if experiment.progress == self._last:
            return
        self._last = dict(experiment.progress)
        finished, total = _finished_jobs(experiment)
        running = experiment.progress.get("running", 0)
        elapsed = time.monotonic() - self._started
        print(
            f"[{elapsed:6.0f} s] experiment {experiment.id} {experiment.status}: "
            f"{finished}/{total} jobs finished, {running} running",
            file=sys.stderr,
            flush=True,
        )


class _ProgressBar(_Progress):
    """A rich progress bar over the experiment's jobs (done + failed + cancelled of all)."""

    def __init__(self, experiment_id: int) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

        self._progress = Progress(
            "[bold]experiment {task.fields[eid]}[/] {task.fields[status]}",
            BarColumn(),
            MofNCompleteColumn(),
            "jobs",
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=False,
        )
        self._task = self._progress.add_task("", total=None, eid=experiment_id, status="")
        self._progress.start()

    def update(self, experiment: Experiment) -> None:
        finished, total = _finished_jobs(experiment)
        status = f"{experiment.status} ({experiment.progress.get('running', 0)} running)"
        self._progress.update(self._task, total=total, completed=finished, status=status)

    def close(self) -> None:
        self._progress.stop()
