"""POST then GET: an experiment, its expansion into runs/jobs/hulls, listing, cancelling."""

from __future__ import annotations

from collections import Counter

import pytest
from fastapi.testclient import TestClient

from client.contract import seeds
from client.contract.spec import ExperimentSpec
from client.settings import Settings
from tests.factories import make_spec
from tests.server.conftest import API, create_experiment, dispatched_job_ids, job_of, jobs_of
from tests.server.fakeworker import FakeWorker


def test_create_then_get(client: TestClient) -> None:
    spec = make_spec()
    response = client.post(f"{API}/experiments", json=spec)
    assert response.status_code == 201
    experiment_id = response.json()["id"]

    body = client.get(f"{API}/experiments/{experiment_id}").json()
    assert body["id"] == experiment_id and body["name"] == "test-lenet"
    assert body["task"] == "lenet5-cifar10"
    assert body["spec"] == ExperimentSpec.model_validate(spec).model_dump(mode="json")
    assert body["steps_per_epoch"] == 8 and body["split_steps"] == [0, 8]
    assert body["status"] == "running"  # the trunk job is queued at once
    assert body["progress"] == {
        "pending": 4,
        "queued": 1,
        "running": 0,
        "done": 0,
        "failed": 0,
        "cancelled": 0,
    }
    assert body["error"] is None
    assert body["created_at"].endswith("Z") or body["created_at"].endswith("+00:00")


@pytest.mark.parametrize(("trunks", "epochs", "branches"), [(1, [0, 1], 2), (2, [0, 0.5, 1], 3)])
def test_expansion_counts_and_graph(
    client: TestClient, trunks: int, epochs: list[float], branches: int
) -> None:
    experiment_id = create_experiment(
        client, trunks=trunks, splits={"epochs": epochs}, branches={"count": branches}
    )
    r, k, p = trunks, len(epochs), branches
    hulls = client.get(f"{API}/experiments/{experiment_id}/hulls").json()
    jobs = jobs_of(client, experiment_id)
    runs = client.get(f"{API}/experiments/{experiment_id}/runs").json()
    assert len(hulls) == r * k
    assert len(jobs) == r + 2 * r * k
    assert len(runs) == r + r * k * p
    assert Counter(j["kind"] for j in jobs) == {"trunk": r, "branches": r * k, "cmc": r * k}
    assert Counter(run["kind"] for run in runs) == {"trunk": r, "branch": r * k * p}

    by_id = {j["id"]: j for j in jobs}
    for job in jobs:
        assert job["max_attempts"] == 2 and job["attempts"] == 0
        if job["kind"] == "trunk":
            assert job["depends_on"] == [] and job["status"] == "queued"
            continue
        [parent] = [by_id[i] for i in job["depends_on"]]
        assert job["status"] == "pending" and parent["trunk"] == job["trunk"]
        if job["kind"] == "branches":
            assert parent["kind"] == "trunk"
        else:
            assert parent["kind"] == "branches" and parent["split_step"] == job["split_step"]


def test_steps_and_seeds_come_from_the_contract(client: TestClient) -> None:
    raw = make_spec(trunks=2, seed=12345, splits={"epochs": [1, 0.5, 0]}, branches={"count": 3})
    spec = ExperimentSpec.model_validate(raw)
    experiment_id = create_experiment(
        client, trunks=2, seed=12345, splits={"epochs": [1, 0.5, 0]}, branches={"count": 3}
    )
    body = client.get(f"{API}/experiments/{experiment_id}").json()
    assert body["split_steps"] == spec.split_steps() == [8, 4, 0]

    hulls = client.get(f"{API}/experiments/{experiment_id}/hulls").json()
    assert [(h["trunk"], h["split_step"], h["split_epoch"]) for h in hulls] == [
        (r, step, epoch) for r in range(2) for step, epoch in [(0, 0), (4, 0.5), (8, 1)]
    ]
    assert all(h["status"] == "pending" and h["p_conv"] is None for h in hulls)

    runs = client.get(f"{API}/experiments/{experiment_id}/runs").json()
    for run in runs:
        r = run["trunk"]
        if run["kind"] == "trunk":
            assert run["split_step"] is None and run["branch"] is None
            assert run["init_seed"] == seeds.trunk_init_seed(12345, r)
            assert run["data_seed"] == seeds.trunk_data_seed(12345, r)
        else:
            assert run["init_seed"] is None
            assert run["data_seed"] == seeds.branch_data_seed(
                12345, r, run["split_step"], run["branch"]
            )
    seeds_seen = [run["data_seed"] for run in runs]
    assert len(set(seeds_seen)) == len(seeds_seen)
    assert runs[0]["kind"] == "trunk" and runs[0]["trunk"] == 0  # trunk first, then its branches


def test_big_seeds_fit(client: TestClient) -> None:
    experiment_id = create_experiment(client, seed=2**63 - 1)
    runs = client.get(f"{API}/experiments/{experiment_id}/runs").json()
    assert all(0 <= run["data_seed"] < 2**63 for run in runs)
    assert runs[0]["init_seed"] == seeds.trunk_init_seed(2**63 - 1, 0)


def test_list_is_newest_first(client: TestClient) -> None:
    first = create_experiment(client, name="first")
    second = create_experiment(client, name="second")
    listed = client.get(f"{API}/experiments").json()
    assert [e["id"] for e in listed] == [second, first]
    assert [e["name"] for e in listed] == ["second", "first"]
    assert set(listed[0]) == {"id", "name", "task", "status", "created_at", "progress", "error"}
    assert listed[0]["progress"]["queued"] == 1


@pytest.mark.parametrize(
    "path",
    [
        "/experiments/999",
        "/experiments/999/jobs",
        "/experiments/999/runs",
        "/experiments/999/branches",
        "/experiments/999/hulls",
        "/experiments/999/hulls/0/0",
        "/experiments/999/metrics",
        "/runs/999/checkpoints",
        "/runs/999/checkpoints/0",
    ],
)
def test_unknown_ids_are_404(client: TestClient, path: str) -> None:
    response = client.get(API + path)
    assert response.status_code == 404
    assert "999" in response.json()["detail"]


def test_unknown_hull_of_a_known_experiment_is_404(client: TestClient) -> None:
    experiment_id = create_experiment(client)
    response = client.get(f"{API}/experiments/{experiment_id}/hulls/0/3")
    assert response.status_code == 404
    assert "split step 3" in response.json()["detail"]
    assert client.post(f"{API}/experiments/999/cancel").status_code == 404


def test_branches_filter_and_endpoints(client: TestClient) -> None:
    from tests.factories import make_safetensors

    experiment_id = create_experiment(client, trunks=2)
    url = f"{API}/experiments/{experiment_id}/branches"
    assert len(client.get(url).json()) == 2 * 2 * 2
    hull = client.get(url, params={"trunk": 1, "split_step": 8}).json()
    assert [(b["trunk"], b["split_step"], b["branch"]) for b in hull] == [(1, 8, 0), (1, 8, 1)]
    assert all(b["endpoint"] is None for b in hull)
    assert len(client.get(url, params={"split_step": 0}).json()) == 4

    worker = FakeWorker(client)
    worker.run(job_of(client, experiment_id, "trunk", 1)["id"])
    lease = worker.claim(job_of(client, experiment_id, "branches", 1, 8)["id"])
    for b in hull:
        for step in (4, 8):  # a resume point, then the endpoint
            data = make_safetensors({"w": [float(b["branch"]), float(step)]})
            assert client.put(f"{API}/runs/{b['id']}/checkpoints/{step}", content=data).is_success
    # still training: the latest checkpoint is not an endpoint yet
    assert all(b["endpoint"] is None for b in client.get(url, params={"trunk": 1}).json())
    assert worker.complete(lease).status_code == 200
    done = client.get(url, params={"trunk": 1, "split_step": 8}).json()
    assert [b["endpoint"]["step"] for b in done] == [8, 8]
    assert done[0]["endpoint"]["sha256"] != done[1]["endpoint"]["sha256"]
    assert all(b["endpoint"] is None for b in client.get(url, params={"trunk": 0}).json())


def test_cancel(client: TestClient, settings: Settings) -> None:
    experiment_id = create_experiment(client)
    worker = FakeWorker(client)
    lease = worker.claim(job_of(client, experiment_id, "trunk")["id"])

    response = client.post(f"{API}/experiments/{experiment_id}/cancel")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "cancelled"
    assert body["progress"]["cancelled"] == 5
    assert {j["status"] for j in jobs_of(client, experiment_id)} == {"cancelled"}

    # the running worker hears about it at its next post
    assert worker.heartbeat(lease).status_code == 409
    assert "cancelled" in worker.heartbeat(lease).json()["detail"]
    assert worker.complete(lease).status_code == 409
    # a stale message for a cancelled job is refused
    assert worker.post(lease.job_id, "claim", {"worker": "other"}).status_code == 409
    # cancelling twice is harmless; nothing new is dispatched
    assert client.post(f"{API}/experiments/{experiment_id}/cancel").json()["status"] == "cancelled"
    assert dispatched_job_ids(settings) == [lease.job_id]
    summary = client.get(f"{API}/experiments").json()[0]
    assert summary["status"] == "cancelled"
