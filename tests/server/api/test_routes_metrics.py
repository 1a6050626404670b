"""Metrics: columnar upsert keyed by (run, step, name), filtered columnar reads."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.server.conftest import API, create_experiment


def runs_of(client: TestClient, experiment_id: int) -> list[dict[str, Any]]:
    runs: list[dict[str, Any]] = client.get(f"{API}/experiments/{experiment_id}/runs").json()
    return runs


def ingest(client: TestClient, rows: list[tuple[int, int, str, float]]) -> dict[str, Any]:
    batch = {
        "run_id": [r[0] for r in rows],
        "step": [r[1] for r in rows],
        "name": [r[2] for r in rows],
        "value": [r[3] for r in rows],
    }
    response = client.post(f"{API}/metrics", json=batch)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def table(client: TestClient, experiment_id: int, **params: Any) -> dict[str, Any]:
    response = client.get(f"{API}/experiments/{experiment_id}/metrics", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_upsert_twice_stores_once_and_overwrites(client: TestClient) -> None:
    experiment_id = create_experiment(client)
    trunk = runs_of(client, experiment_id)[0]["id"]
    rows = [(trunk, s, "train_loss", 2.0 - s / 10) for s in range(0, 10, 2)]
    assert ingest(client, rows) == {"rows": 5}
    assert ingest(client, rows) == {"rows": 5}
    assert table(client, experiment_id)["step"] == [0, 2, 4, 6, 8]

    ingest(client, [(trunk, 4, "train_loss", 42.0), (trunk, 4, "train_loss", 43.0)])
    body = table(client, experiment_id)
    assert len(body["step"]) == 5
    assert body["value"][2] == 43.0  # the last of a repeated key wins


def test_columns_filters_and_order(client: TestClient) -> None:
    experiment_id = create_experiment(client, trunks=2)
    runs = runs_of(client, experiment_id)
    branch = next(r for r in runs if r["kind"] == "branch" and r["trunk"] == 1)
    trunk0 = next(r for r in runs if r["kind"] == "trunk" and r["trunk"] == 0)
    ingest(
        client,
        [
            (branch["id"], 12, "train_loss", 0.5),
            (trunk0["id"], 8, "test_accuracy", 0.3),
            (trunk0["id"], 4, "train_loss", 1.5),
            (trunk0["id"], 0, "train_loss", 2.3),
            (branch["id"], 12, "test_accuracy", 0.4),
        ],
    )
    body = table(client, experiment_id)
    assert set(body) == {"run_id", "kind", "trunk", "split_step", "branch", "step", "name", "value"}
    # ordered by run, name, step
    assert list(zip(body["run_id"], body["name"], body["step"], strict=True)) == [
        (trunk0["id"], "test_accuracy", 8),
        (trunk0["id"], "train_loss", 0),
        (trunk0["id"], "train_loss", 4),
        (branch["id"], "test_accuracy", 12),
        (branch["id"], "train_loss", 12),
    ]
    assert body["kind"] == ["trunk"] * 3 + ["branch"] * 2
    assert body["split_step"][-1] == branch["split_step"] and body["split_step"][0] is None
    assert body["branch"][-1] == branch["branch"] and body["trunk"][-1] == 1

    assert table(client, experiment_id, name="train_loss")["step"] == [0, 4, 12]
    assert len(table(client, experiment_id, name=["train_loss", "test_accuracy"])["step"]) == 5
    assert table(client, experiment_id, kind="branch")["run_id"] == [branch["id"]] * 2
    assert table(client, experiment_id, trunk=0)["step"] == [8, 0, 4]
    assert len(table(client, experiment_id, split_step=branch["split_step"])["step"]) == 2
    assert len(table(client, experiment_id, branch=branch["branch"], trunk=1)["step"]) == 2
    assert table(client, experiment_id, name="nothing")["step"] == []

    other = create_experiment(client)
    assert table(client, other)["step"] == []  # rows belong to their own experiment


def test_unknown_run_rejects_the_batch(client: TestClient) -> None:
    experiment_id = create_experiment(client)
    trunk = runs_of(client, experiment_id)[0]["id"]
    batch = {"run_id": [trunk, 9999], "step": [0, 0], "name": ["a", "a"], "value": [1.0, 2.0]}
    response = client.post(f"{API}/metrics", json=batch)
    assert response.status_code == 404 and "9999" in response.json()["detail"]
    assert table(client, experiment_id)["step"] == []


def test_malformed_batches_are_422(client: TestClient) -> None:
    unequal = {"run_id": [1, 2], "step": [0], "name": ["a"], "value": [1.0]}
    response = client.post(f"{API}/metrics", json=unequal)
    assert response.status_code == 422
    assert "equal lengths" in response.json()["detail"][0]["message"]
    negative = {"run_id": [1], "step": [-1], "name": ["a"], "value": [1.0]}
    assert client.post(f"{API}/metrics", json=negative).status_code == 422


def test_large_batch_in_chunks(client: TestClient) -> None:
    """More rows than one statement can carry on SQLite (32k parameters / 4 columns)."""
    experiment_id = create_experiment(client)
    trunk = runs_of(client, experiment_id)[0]["id"]
    n = 12_000
    rows = [(trunk, step, "train_loss", float(step)) for step in range(n)]
    assert ingest(client, rows) == {"rows": n}
    body = table(client, experiment_id)
    assert len(body["step"]) == n and body["value"][-1] == float(n - 1)


def test_non_finite_values_are_422(client: TestClient) -> None:
    """NaN cannot be stored on SQLite nor sent back as JSON: refused, naming the row."""
    experiment_id = create_experiment(client)
    trunk = runs_of(client, experiment_id)[0]["id"]
    body = b'{"run_id": [%d, %d], "step": [0, 1], "name": ["a", "a"], "value": [1.0, NaN]}' % (
        trunk,
        trunk,
    )
    response = client.post(
        f"{API}/metrics", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "value.1"
    assert response.json()["detail"][0]["type"] == "finite_number"
    assert table(client, experiment_id)["step"] == []
