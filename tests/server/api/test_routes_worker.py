"""The worker protocol over HTTP, as a fake worker speaks it: claim, heartbeat, metrics,
checkpoints, complete, fail; leases expiring; failures cancelling what depends on them."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from client.settings import Settings
from server.db.types import utcnow
from server.runtime import Runtime
from server.services.scheduling import dispatch_ready, reap_expired_leases
from tests.factories import make_cmc_result, make_safetensors
from tests.server.conftest import API, create_experiment, dispatched_job_ids, job_of, jobs_of
from tests.server.fakeworker import FakeWorker


def experiment(client: TestClient, experiment_id: int) -> dict[str, Any]:
    body: dict[str, Any] = client.get(f"{API}/experiments/{experiment_id}").json()
    return body


def post_metrics(client: TestClient, run_id: int, steps: range, name: str = "train_loss") -> None:
    batch = {
        "run_id": [run_id] * len(steps),
        "step": list(steps),
        "name": [name] * len(steps),
        "value": [1.0 / (s + 1) for s in steps],
    }
    response = client.post(f"{API}/metrics", json=batch)
    assert response.status_code == 200, response.text
    assert response.json() == {"rows": len(steps)}


def test_full_lifecycle(client: TestClient, settings: Settings) -> None:
    experiment_id = create_experiment(client)
    worker = FakeWorker(client)
    trunk_job = job_of(client, experiment_id, "trunk")
    assert dispatched_job_ids(settings) == [trunk_job["id"]]

    # claim the trunk: a lease, the spec and the trunk run
    lease = worker.claim(trunk_job["id"])
    job = lease.assignment["job"]
    assert job["status"] == "running" and job["attempts"] == 1 and job["worker"] == worker.name
    assert job["started_at"] is not None
    assert lease.assignment["lease_seconds"] == 30 and lease.assignment["heartbeat_seconds"] == 5
    assert lease.assignment["spec"]["name"] == "test-lenet"
    [trunk_run] = lease.assignment["runs"]
    assert trunk_run["kind"] == "trunk" and trunk_run["trunk"] == 0
    assert experiment(client, experiment_id)["progress"]["running"] == 1

    response = worker.heartbeat(lease)
    assert response.status_code == 200 and response.json() == {"lease_seconds": 30.0}

    # metrics twice (a retried post) are stored once
    post_metrics(client, trunk_run["id"], range(0, 9, 4))
    post_metrics(client, trunk_run["id"], range(0, 9, 4))
    table = client.get(f"{API}/experiments/{experiment_id}/metrics").json()
    assert table["step"] == [0, 4, 8] and table["kind"] == ["trunk"] * 3

    # checkpoints at every split step, real safetensors bytes, round trip
    for step in (0, 8):
        data = make_safetensors({"w": [float(step), 1.0]}, metadata={"step": str(step)})
        put = client.put(
            f"{API}/runs/{trunk_run['id']}/checkpoints/{step}",
            content=data,
            headers={"content-type": "application/octet-stream"},
        )
        assert put.status_code == 200, put.text
        assert client.get(f"{API}/runs/{trunk_run['id']}/checkpoints/{step}").content == data

    done = worker.complete(lease, info={"strategy": "sequential"})
    assert done.status_code == 200
    assert done.json()["status"] == "done" and done.json()["info"] == {"strategy": "sequential"}
    assert done.json()["finished_at"] is not None

    # both hulls' branch jobs became ready and went to the broker
    branch_jobs = [job_of(client, experiment_id, "branches", 0, step) for step in (0, 8)]
    assert [j["status"] for j in branch_jobs] == ["queued", "queued"]
    assert dispatched_job_ids(settings) == [trunk_job["id"]] + [j["id"] for j in branch_jobs]

    # branches: the trunk run first, then the hull's branch runs in order
    branch_lease = worker.claim(branch_jobs[1]["id"])
    runs = branch_lease.assignment["runs"]
    assert [(r["kind"], r["split_step"], r["branch"]) for r in runs] == [
        ("trunk", None, None),
        ("branch", 8, 0),
        ("branch", 8, 1),
    ]
    for run in runs[1:]:
        post_metrics(client, run["id"], range(8, 17, 4))
    assert worker.complete(branch_lease).status_code == 200
    cmc_job = job_of(client, experiment_id, "cmc", 0, 8)
    assert cmc_job["status"] == "queued"

    # cmc: the result becomes the hull's numbers and samples
    cmc_lease = worker.claim(cmc_job["id"])
    assert len(cmc_lease.assignment["runs"]) == 3
    result = make_cmc_result(branches=2, samples=8)
    assert worker.complete(cmc_lease, cmc=result).status_code == 200
    hull = client.get(f"{API}/experiments/{experiment_id}/hulls/0/8", params={"samples": True})
    body = hull.json()
    assert body["status"] == "done" and body["split_epoch"] == 1.0
    assert body["p_conv"] == 0.5 and body["p_rand"] == 0.0 and body["p_conv_std"] == 0.5
    assert body["n_samples"] == 8 and body["eval_examples"] == 512
    assert body["mean_endpoint_loss"] == 1.5  # losses 1 and 2
    assert body["mean_endpoint_distance"] == 3.0  # the one pair: 2 + 0 + 1
    assert body["mean_sample_distance"] == pytest.approx(sum(1 + j / 10 for j in range(8)) / 8)
    assert body["endpoints"] == result["endpoints"]
    assert body["endpoint_distances"] == result["endpoint_distances"]
    assert body["samples"] == result["samples"]
    without = client.get(f"{API}/experiments/{experiment_id}/hulls/0/8").json()
    assert without["samples"] is None and without["p_conv"] == 0.5

    # the other hull, then the experiment is done
    worker.run(branch_jobs[0]["id"])
    worker.run(job_of(client, experiment_id, "cmc", 0, 0)["id"])
    final = experiment(client, experiment_id)
    assert final["status"] == "done" and final["progress"]["done"] == 5
    assert [h["status"] for h in client.get(f"{API}/experiments/{experiment_id}/hulls").json()] == [
        "done",
        "done",
    ]


def test_claim_refusals(client: TestClient) -> None:
    experiment_id = create_experiment(client)
    worker = FakeWorker(client)
    trunk = job_of(client, experiment_id, "trunk")
    waiting = job_of(client, experiment_id, "branches", 0, 0)

    assert worker.post(999, "claim", {"worker": "w"}).status_code == 404
    refused = worker.post(waiting["id"], "claim", {"worker": "w"})
    assert refused.status_code == 409 and "waits for" in refused.json()["detail"]

    lease = worker.claim(trunk["id"])
    other = FakeWorker(client, "other-gpu")
    held = other.post(trunk["id"], "claim", {"worker": other.name})
    assert held.status_code == 409 and worker.name in held.json()["detail"]

    worker.complete(lease)
    again = other.post(trunk["id"], "claim", {"worker": other.name})
    assert again.status_code == 409 and "done" in again.json()["detail"]
    assert worker.post(trunk["id"], "claim", {"worker": ""}).status_code == 422


def test_same_worker_reclaims_after_restart(client: TestClient) -> None:
    """A worker that restarted and got the message again takes its job back under a new lease."""
    experiment_id = create_experiment(client)
    worker = FakeWorker(client)
    job_id = job_of(client, experiment_id, "trunk")["id"]
    first = worker.claim(job_id)
    second = worker.claim(job_id)
    assert second.token != first.token and second.assignment["job"]["attempts"] == 2
    assert worker.heartbeat(first).status_code == 409
    assert worker.heartbeat(second).status_code == 200


def test_wrong_token(client: TestClient) -> None:
    experiment_id = create_experiment(client)
    worker = FakeWorker(client)
    lease = worker.claim(job_of(client, experiment_id, "trunk")["id"])
    bad = {"lease_token": "not-the-token"}
    response = worker.post(lease.job_id, "heartbeat", bad)
    assert response.status_code == 409 and "no longer this token" in response.json()["detail"]
    assert worker.post(lease.job_id, "complete", bad).status_code == 409
    assert worker.post(lease.job_id, "fail", {**bad, "reason": "x"}).status_code == 409
    assert worker.post(999, "heartbeat", bad).status_code == 404
    assert job_of(client, experiment_id, "trunk")["status"] == "running"


def test_completion_is_idempotent(client: TestClient, settings: Settings) -> None:
    experiment_id = create_experiment(client, splits={"epochs": [1]})
    worker = FakeWorker(client)
    worker.run(job_of(client, experiment_id, "trunk")["id"])
    worker.run(job_of(client, experiment_id, "branches", 0, 8)["id"])
    lease = worker.claim(job_of(client, experiment_id, "cmc", 0, 8)["id"])
    result = make_cmc_result()
    first = worker.complete(lease, cmc=result)
    second = worker.complete(lease, cmc=make_cmc_result(shift=5.0))
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    hull = client.get(f"{API}/experiments/{experiment_id}/hulls/0/8?samples=true").json()
    assert len(hull["samples"]) == 8 and hull["mean_endpoint_loss"] == 1.5
    assert len(dispatched_job_ids(settings)) == 3  # nothing dispatched twice


def test_cmc_result_is_checked(client: TestClient) -> None:
    experiment_id = create_experiment(client, splits={"epochs": [1]})
    worker = FakeWorker(client)
    trunk = worker.claim(job_of(client, experiment_id, "trunk")["id"])
    wrong_kind = worker.complete(trunk, cmc=make_cmc_result())
    assert wrong_kind.status_code == 422 and wrong_kind.json()["detail"][0]["field"] == "cmc"
    worker.complete(trunk)
    worker.run(job_of(client, experiment_id, "branches", 0, 8)["id"])
    lease = worker.claim(job_of(client, experiment_id, "cmc", 0, 8)["id"])

    missing = worker.complete(lease)
    assert missing.status_code == 422 and missing.json()["detail"][0]["field"] == "cmc"
    three = worker.complete(lease, cmc=make_cmc_result(branches=3))
    assert three.status_code == 422
    assert three.json()["detail"][0]["field"] == "cmc.endpoints"
    repeated = make_cmc_result()
    repeated["samples"][3]["j"] = 0
    response = worker.complete(lease, cmc=repeated)
    assert (
        response.status_code == 422 and response.json()["detail"][0]["field"] == "cmc.samples.3.j"
    )
    diverged = make_cmc_result()
    diverged["samples"][2]["loss_rand"] = float("inf")
    response = client.post(  # httpx refuses to encode infinity; Python's json writes it
        f"{API}/worker/jobs/{lease.job_id}/complete",
        content=json.dumps({"lease_token": lease.token, "cmc": diverged}),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "cmc.samples.2.loss_rand"
    malformed = make_cmc_result()
    del malformed["p_conv"]
    response = worker.complete(lease, cmc=malformed)
    assert response.status_code == 422 and response.json()["detail"][0]["field"] == "cmc.p_conv"

    # nothing was recorded; the job still runs and completes with a good result
    assert client.get(f"{API}/experiments/{experiment_id}/hulls/0/8").json()["p_conv"] is None
    assert job_of(client, experiment_id, "cmc", 0, 8)["status"] == "running"
    assert worker.complete(lease, cmc=make_cmc_result()).status_code == 200


def test_lease_expiry_redispatches_then_fails(
    client: TestClient, session: Session, runtime: Runtime, settings: Settings
) -> None:
    experiment_id = create_experiment(client)
    worker = FakeWorker(client)
    job_id = job_of(client, experiment_id, "trunk")["id"]
    lease = worker.claim(job_id)

    # a reaper pass before the lease ends changes nothing
    assert reap_expired_leases(session=session, now=utcnow()) == []

    later = utcnow() + timedelta(seconds=settings.lease_seconds + 1)
    assert reap_expired_leases(session=session, now=later) == [job_id]
    job = job_of(client, experiment_id, "trunk")
    assert job["status"] == "pending" and job["attempts"] == 1
    assert "lease expired on attempt 1 of 2" in job["error"]
    assert dispatch_ready(session=session, dispatcher=runtime.dispatcher) == [job_id]
    assert dispatched_job_ids(settings) == [job_id, job_id]

    # the old lease is gone; a new claim is the second attempt
    assert worker.heartbeat(lease).status_code == 409
    second = FakeWorker(client, "gpu-1").claim(job_id)
    assert second.assignment["job"]["attempts"] == 2

    # its lease expires too: no attempts left, so it fails for good
    much_later = utcnow() + timedelta(seconds=2 * settings.lease_seconds + 5)
    assert reap_expired_leases(session=session, now=much_later) == [job_id]
    jobs = jobs_of(client, experiment_id)
    assert {j["status"] for j in jobs if j["id"] != job_id} == {"cancelled"}
    failed = job_of(client, experiment_id, "trunk")
    assert failed["status"] == "failed" and "lease expired on attempt 2 of 2" in failed["error"]
    body = experiment(client, experiment_id)
    assert body["status"] == "failed"
    assert body["error"].startswith("trunk (trunk 0): lease expired")
    assert dispatch_ready(session=session, dispatcher=runtime.dispatcher) == []


def test_heartbeat_keeps_the_lease(
    client: TestClient, session: Session, settings: Settings
) -> None:
    experiment_id = create_experiment(client)
    worker = FakeWorker(client)
    lease = worker.claim(job_of(client, experiment_id, "trunk")["id"])
    almost = utcnow() + timedelta(seconds=settings.lease_seconds - 1)
    assert worker.heartbeat(lease).status_code == 200
    assert reap_expired_leases(session=session, now=almost) == []
    assert job_of(client, experiment_id, "trunk")["status"] == "running"


def test_transient_failure_retries_until_attempts_run_out(
    client: TestClient, settings: Settings
) -> None:
    experiment_id = create_experiment(client)
    worker = FakeWorker(client)
    job_id = job_of(client, experiment_id, "trunk")["id"]

    first = worker.claim(job_id)
    retried = worker.fail(first, "broker hiccup", transient=True)
    assert retried.status_code == 200
    body = retried.json()
    assert body["status"] == "queued" and body["attempts"] == 1  # pending, then re-dispatched
    assert "broker hiccup" in body["error"]
    assert dispatched_job_ids(settings) == [job_id, job_id]
    # the same post again changes nothing
    assert worker.fail(first, "broker hiccup", transient=True).json()["status"] == "queued"

    second = worker.claim(job_id)
    final = worker.fail(second, "broker hiccup again", transient=True)
    assert final.json()["status"] == "failed" and final.json()["attempts"] == 2
    assert final.json()["error"] == "broker hiccup again"
    assert experiment(client, experiment_id)["status"] == "failed"


def test_final_failure_cancels_dependents_and_cleans_up(client: TestClient) -> None:
    """A branches job fails for good: its cmc is cancelled, its runs' curves and checkpoints are
    deleted, the other hull finishes normally, and the experiment ends failed with the reason."""
    experiment_id = create_experiment(client)
    worker = FakeWorker(client)
    trunk = worker.claim(job_of(client, experiment_id, "trunk")["id"])
    trunk_run = trunk.assignment["runs"][0]
    post_metrics(client, trunk_run["id"], range(0, 9, 4))
    client.put(f"{API}/runs/{trunk_run['id']}/checkpoints/0", content=make_safetensors())
    worker.complete(trunk)

    doomed = worker.claim(job_of(client, experiment_id, "branches", 0, 0)["id"])
    doomed_runs = doomed.assignment["runs"][1:]
    for run in doomed_runs:
        post_metrics(client, run["id"], range(0, 5, 4))
        put = client.put(f"{API}/runs/{run['id']}/checkpoints/4", content=make_safetensors())
        assert put.status_code == 200
    # a non-transient failure ends it at once, attempts left or not
    failed = worker.fail(doomed, "CUDA out of memory")
    assert failed.status_code == 200 and failed.json()["status"] == "failed"
    assert failed.json()["attempts"] == 1
    assert worker.fail(doomed, "CUDA out of memory").json() == failed.json()  # idempotent

    cmc = job_of(client, experiment_id, "cmc", 0, 0)
    assert cmc["status"] == "cancelled" and "branches (trunk 0, split 0) failed" in cmc["error"]
    metrics = client.get(f"{API}/experiments/{experiment_id}/metrics").json()
    assert set(metrics["run_id"]) == {trunk_run["id"]}  # the branches' rows are gone
    for run in doomed_runs:
        assert client.get(f"{API}/runs/{run['id']}/checkpoints").json() == []
    assert len(client.get(f"{API}/runs/{trunk_run['id']}/checkpoints").json()) == 1

    # still running: the other hull can finish
    assert experiment(client, experiment_id)["status"] == "running"
    worker.run(job_of(client, experiment_id, "branches", 0, 8)["id"])
    worker.run(job_of(client, experiment_id, "cmc", 0, 8)["id"])
    hulls = client.get(f"{API}/experiments/{experiment_id}/hulls").json()
    assert [(h["split_step"], h["status"]) for h in hulls] == [(0, "failed"), (8, "done")]
    assert hulls[0]["error"] == "branches (trunk 0, split 0): CUDA out of memory"
    assert hulls[1]["error"] is None and hulls[1]["p_conv"] == 0.5

    body = experiment(client, experiment_id)
    assert body["status"] == "failed"
    assert body["error"] == "branches (trunk 0, split 0): CUDA out of memory"
    assert body["progress"] == {
        "pending": 0,
        "queued": 0,
        "running": 0,
        "done": 3,
        "failed": 1,
        "cancelled": 1,
    }
    listed = client.get(f"{API}/experiments").json()[0]
    assert listed["status"] == "failed" and listed["error"] == body["error"]


def test_trunk_failure_leaves_other_trunks_alone(client: TestClient) -> None:
    experiment_id = create_experiment(client, trunks=2, splits={"epochs": [1]})
    worker = FakeWorker(client)
    lost = worker.claim(job_of(client, experiment_id, "trunk", 1)["id"])
    worker.fail(lost, "NaN loss")
    assert {
        j["status"] for j in jobs_of(client, experiment_id) if j["trunk"] == 1 and j["split_step"]
    } == {"cancelled"}

    worker.run(job_of(client, experiment_id, "trunk", 0)["id"])
    worker.run(job_of(client, experiment_id, "branches", 0, 8)["id"])
    worker.run(job_of(client, experiment_id, "cmc", 0, 8)["id"])
    hulls = client.get(f"{API}/experiments/{experiment_id}/hulls").json()
    assert [(h["trunk"], h["status"]) for h in hulls] == [(0, "done"), (1, "cancelled")]
    assert hulls[1]["error"] == "trunk (trunk 1): NaN loss"
    assert experiment(client, experiment_id)["error"] == "trunk (trunk 1): NaN loss"
