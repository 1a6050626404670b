"""Checkpoints: safetensors bytes in and out, stored once per content hash."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from client.settings import Settings
from tests.factories import make_safetensors
from tests.server.conftest import API, create_experiment

OCTET = {"content-type": "application/octet-stream"}


@pytest.fixture
def run_id(client: TestClient) -> int:
    experiment_id = create_experiment(client)
    run: int = client.get(f"{API}/experiments/{experiment_id}/runs").json()[0]["id"]
    return run


def stored_files(settings: Settings) -> list[Path]:
    return sorted(p for p in settings.resolved_artifact_dir.rglob("*") if p.is_file())


def test_put_get_roundtrip(client: TestClient, run_id: int, settings: Settings) -> None:
    data = make_safetensors({"param/w": [0.25, -1.5, 3.0], "param/b": [7.0]})
    sha = hashlib.sha256(data).hexdigest()
    put = client.put(f"{API}/runs/{run_id}/checkpoints/8", content=data, headers=OCTET)
    assert put.status_code == 200
    assert put.json() == {"run_id": run_id, "step": 8, "sha256": sha, "size": len(data)}

    got = client.get(f"{API}/runs/{run_id}/checkpoints/8")
    assert got.status_code == 200 and got.content == data
    assert got.headers["content-type"] == "application/octet-stream"
    assert client.get(f"{API}/artifacts/{sha}").content == data
    assert client.get(f"{API}/runs/{run_id}/checkpoints").json() == [put.json()]
    assert stored_files(settings) == [
        settings.resolved_artifact_dir / sha[:2] / f"{sha}.safetensors"
    ]


def test_same_bytes_twice_is_one_artifact(
    client: TestClient, run_id: int, settings: Settings
) -> None:
    data = make_safetensors()
    first = client.put(f"{API}/runs/{run_id}/checkpoints/0", content=data, headers=OCTET).json()
    again = client.put(f"{API}/runs/{run_id}/checkpoints/0", content=data, headers=OCTET).json()
    other_step = client.put(f"{API}/runs/{run_id}/checkpoints/4", content=data).json()
    assert first == again
    assert other_step["sha256"] == first["sha256"]
    assert len(stored_files(settings)) == 1
    assert [c["step"] for c in client.get(f"{API}/runs/{run_id}/checkpoints").json()] == [0, 4]


def test_rewriting_a_step_replaces_it(client: TestClient, run_id: int) -> None:
    client.put(f"{API}/runs/{run_id}/checkpoints/0", content=make_safetensors({"w": [1.0]}))
    newer = make_safetensors({"w": [2.0]})
    replaced = client.put(f"{API}/runs/{run_id}/checkpoints/0", content=newer).json()
    assert replaced["sha256"] == hashlib.sha256(newer).hexdigest()
    assert client.get(f"{API}/runs/{run_id}/checkpoints/0").content == newer
    assert len(client.get(f"{API}/runs/{run_id}/checkpoints").json()) == 1


@pytest.mark.parametrize(
    "data",
    [b"PK\x03\x04 a zip, not safetensors", make_safetensors()[:-2], b"\x80\x04\x95pickle"],
)
def test_invalid_bytes_are_422(
    client: TestClient, run_id: int, settings: Settings, data: bytes
) -> None:
    response = client.put(f"{API}/runs/{run_id}/checkpoints/0", content=data, headers=OCTET)
    assert response.status_code == 422
    [problem] = response.json()["detail"]
    assert problem["type"] == "safetensors" and "not a safetensors file" in problem["message"]
    assert client.get(f"{API}/runs/{run_id}/checkpoints").json() == []
    assert stored_files(settings) == []


def test_empty_body_is_422(client: TestClient, run_id: int) -> None:
    response = client.put(f"{API}/runs/{run_id}/checkpoints/0", content=b"", headers=OCTET)
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "missing"


def test_missing_things_are_404(client: TestClient, run_id: int) -> None:
    data = make_safetensors()
    assert client.put(f"{API}/runs/999/checkpoints/0", content=data).status_code == 404
    assert client.get(f"{API}/runs/{run_id}/checkpoints/3").status_code == 404
    assert client.get(f"{API}/artifacts/{'a' * 64}").status_code == 404
    assert client.get(f"{API}/artifacts/not-a-hash").status_code == 422
    assert client.put(f"{API}/runs/{run_id}/checkpoints/-1", content=data).status_code == 422
