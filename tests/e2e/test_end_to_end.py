"""The whole loop through real processes: spec → server → Celery worker → trunk and branches →
convex hull → client. Budget: about 2 minutes for this file on 2 cores."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml
from safetensors.torch import load as load_safetensors

from client.contract import Experiment
from client.lab import LabClient
from tests.e2e.conftest import Stack
from tests.factories import quick_spec

pytestmark = pytest.mark.e2e
TIMEOUT = 240.0


def _finish(stack: Stack, experiment_id: int) -> Experiment:
    try:
        return stack.lab.wait(experiment_id, progress=False, timeout=TIMEOUT, poll_seconds=0.5)
    except Exception:
        print(stack.logs())
        raise


def _endpoint_hashes(lab: LabClient, experiment_id: int) -> list[str]:
    branches = lab.list_branches(experiment_id)
    assert branches and all(b.endpoint is not None for b in branches)
    return [b.endpoint.sha256 for b in branches if b.endpoint is not None]


@pytest.fixture(scope="module")
def quick_experiment(embedded_stack: Stack) -> int:
    """The quick preset, run to the end on the embedded stack (about 10 s)."""
    experiment_id = embedded_stack.lab.submit(quick_spec())
    _finish(embedded_stack, experiment_id)
    return experiment_id


def test_embedded_experiment_end_to_end(embedded_stack: Stack, quick_experiment: int) -> None:
    lab = embedded_stack.lab
    spec = quick_spec()
    experiment_id = quick_experiment
    experiment = lab.get_experiment(experiment_id)
    assert experiment.status == "done", embedded_stack.logs()
    assert experiment.progress["done"] == sum(experiment.progress.values())

    # One hull row per split, with P_conv and P_rand over J samples.
    hulls = lab.list_hulls(experiment_id).rows
    assert [h.split_epoch for h in hulls] == spec["splits"]["epochs"]
    assert [h.split_step for h in hulls] == experiment.split_steps
    for row in hulls:
        assert row.status == "done" and row.n_samples == 8
        assert row.p_conv is not None and 0 <= row.p_conv <= 1
        assert row.p_rand is not None and 0 <= row.p_rand <= 1

    # Every sample is stored and consistent with the summary.
    hull = lab.get_hull(experiment_id, split=1, samples=True)
    assert hull.samples is not None and len(hull.samples) == 8
    for sample in hull.samples:
        assert math.isclose(sum(sample.weights), 1.0, rel_tol=1e-5)
        assert sample.conv_lower == (sample.loss_conv < sample.loss_end)
        assert 0 <= sample.closest < 2
    assert hull.p_conv == pytest.approx(sum(s.conv_lower for s in hull.samples) / 8)
    assert len(hull.endpoints) == 2 and len(hull.endpoint_distances) == 2
    assert len(hull.to_pandas()) == 8

    # Training curves of the trunk and of every branch.
    metrics = lab.get_metrics(experiment_id)
    assert {"train_loss", "train_accuracy", "test_accuracy"} <= set(metrics.name)
    assert {"trunk", "branch"} == set(metrics.kind)
    assert all(math.isfinite(v) for v in metrics.value)

    # Checkpoints: trunk at every split step, branch endpoints; all load with safetensors.
    runs = lab.list_runs(experiment_id)
    trunk = next(r for r in runs if r.kind == "trunk")
    assert sorted(c.step for c in lab.list_checkpoints(trunk.id)) == sorted(experiment.split_steps)
    branch = lab.list_branches(experiment_id)[0]
    assert branch.endpoint is not None
    tensors = load_safetensors(lab.download_checkpoint(branch.id, branch.endpoint.step))
    assert sum(t.numel() for k, t in tensors.items() if k.startswith("param/")) == 62_006

    # The same spec twice gives identical endpoints on the CPU (content hashes are equal).
    again = lab.submit(spec)
    assert _finish(embedded_stack, again).status == "done"
    assert _endpoint_hashes(lab, again) == _endpoint_hashes(lab, experiment_id)


def test_diverging_job_fails_with_its_reason(embedded_stack: Stack) -> None:
    lab = embedded_stack.lab
    experiment_id = lab.submit(quick_spec(optimizer={"lr": 1.0e6}))
    experiment = _finish(embedded_stack, experiment_id)
    assert experiment.status == "failed"
    assert experiment.error is not None and "trunk" in experiment.error
    assert "finite" in experiment.error or "nan" in experiment.error.lower()
    jobs = lab.list_jobs(experiment_id)
    assert {j.status for j in jobs if j.kind != "trunk"} == {"cancelled"}
    # No half-written rows of the failed run remain.
    assert len(lab.get_metrics(experiment_id)) == 0


def test_cli_reads_hulls_of_a_finished_experiment(
    embedded_stack: Stack, quick_experiment: int
) -> None:
    out = _cli("--server-url", embedded_stack.url, "hulls", str(quick_experiment))
    assert out.returncode == 0, out.stderr
    assert "P_conv" in out.stdout and "done" in out.stdout


def test_lab_stack_over_raw_http(lab_stack: Stack) -> None:
    """Postgres + Redis + a worker; the spec goes in and the hulls come out as plain JSON."""
    api = f"{lab_stack.url}/api/v1"
    response = httpx.post(f"{api}/experiments", json=quick_spec(), timeout=30)
    assert response.status_code == 201, response.text
    experiment_id = response.json()["id"]
    assert _finish(lab_stack, experiment_id).status == "done", lab_stack.logs()
    hulls = httpx.get(f"{api}/experiments/{experiment_id}/hulls", timeout=30).json()
    assert len(hulls) == 2
    assert {
        "trunk",
        "split_step",
        "split_epoch",
        "p_conv",
        "p_rand",
        "p_conv_std",
        "p_rand_std",
        "n_samples",
        "status",
    } <= set(hulls[0])
    detail = httpx.get(
        f"{api}/experiments/{experiment_id}/hulls/0/{hulls[1]['split_step']}",
        params={"samples": "true"},
        timeout=30,
    ).json()
    assert len(detail["samples"]) == 8


def test_demo_command_runs_the_quick_preset(tmp_path: Path) -> None:
    """README command 1's last step, on the quick preset (the real demo takes ~10 minutes)."""
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "client.cli",
            "demo",
            "--preset",
            "quick",
            "--home",
            str(tmp_path),
            "--timeout",
            str(TIMEOUT),
        ],
        capture_output=True,
        text=True,
        timeout=TIMEOUT + 60,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "P_conv" in out.stdout
    assert (tmp_path / "lmclab.db").exists()


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "client.cli", *args], capture_output=True, text=True, timeout=60
    )


def test_cli_names_the_bad_field_of_a_spec(embedded_stack: Stack, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(quick_spec(optimizer={"lr": -1}, branches={"count": 1})))
    out = _cli("--server-url", embedded_stack.url, "submit", str(bad))
    assert out.returncode == 2
    assert "optimizer.lr" in out.stderr and "branches.count" in out.stderr


def test_cli_says_when_no_server_answers(tmp_path: Path) -> None:
    out = _cli("--server-url", "http://127.0.0.1:9", "list")
    assert out.returncode == 1
    assert "no lmclab server answered" in out.stderr
