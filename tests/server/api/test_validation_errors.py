"""422s name the offending field (the HTTP API: {"detail": [{"field", "message", "type"}]})."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.factories import make_spec
from tests.server.conftest import API

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def problems(client: TestClient, spec: dict[str, Any]) -> list[dict[str, str]]:
    response = client.post(f"{API}/experiments", json=spec)
    assert response.status_code == 422, response.text
    detail: list[dict[str, str]] = response.json()["detail"]
    assert all(set(p) == {"field", "message", "type"} for p in detail)
    return detail


@pytest.mark.parametrize(
    ("overrides", "field", "error_type", "words"),
    [
        ({"task": "no-such-task"}, "task", "value_error", "unknown task 'no-such-task'"),
        ({"optimizer.lr": 0}, "optimizer.lr", "greater_than", "greater than 0"),
        ({"optimizer.lr": -0.1}, "optimizer.lr", "greater_than", "greater than 0"),
        ({"splits.epochs": [-1, 1]}, "splits.epochs", "value_error", "must be a finite number"),
        ({"splits.epochs": [1, 1]}, "splits.epochs", "value_error", "repeat"),
        ({"splits.epochs": []}, "splits.epochs", "too_short", "at least 1"),
        ({"branches.count": 1}, "branches.count", "greater_than_equal", "greater than or equal"),
        ({"analyses.cmc.samples": 0}, "analyses.cmc.samples", "greater_than_equal", "1"),
        ({"bogus": 1}, "bogus", "extra_forbidden", "not permitted"),
        ({"optimizer.nesterov": True}, "optimizer.nesterov", "extra_forbidden", "not permitted"),
        ({"batch_size": 0}, "batch_size", "greater_than_equal", "greater than or equal to 1"),
        ({"trunks": "two"}, "trunks", "int_parsing", "integer"),
        # model-level errors: the contract's message names the field
        ({"splits.epochs": [0.5, 0.51]}, "splits.epochs", "value_error", "both round to step 4"),
    ],
)
def test_bad_spec_field_is_named(
    client: TestClient, overrides: dict[str, Any], field: str, error_type: str, words: str
) -> None:
    detail = problems(client, make_spec(**overrides))
    assert len(detail) == 1, detail
    assert detail[0]["field"] == field
    assert detail[0]["type"] == error_type
    assert words in detail[0]["message"]
    assert not detail[0]["message"].startswith("Value error")


def test_missing_field(client: TestClient) -> None:
    spec = make_spec()
    del spec["optimizer"]
    assert problems(client, spec) == [
        {"field": "optimizer", "message": "Field required", "type": "missing"}
    ]


def test_model_level_error_keeps_its_own_message(client: TestClient) -> None:
    detail = problems(client, make_spec(batch_size=1024))
    assert detail == [
        {
            "field": "",
            "message": "batch_size 1024 exceeds the 512 training examples "
            "(an epoch would have no step)",
            "type": "value_error",
        }
    ]


def test_every_problem_is_listed(client: TestClient) -> None:
    detail = problems(client, make_spec(batch_size=0, **{"optimizer.lr": 0, "extra": 1}))
    assert {p["field"] for p in detail} == {"batch_size", "optimizer.lr", "extra"}


def test_invalid_json(client: TestClient) -> None:
    response = client.post(
        f"{API}/experiments", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    [problem] = response.json()["detail"]
    assert problem["field"] == "" and problem["type"] == "json_invalid"


def test_query_and_path_fields(client: TestClient) -> None:
    response = client.get(f"{API}/experiments/1/metrics", params={"kind": "leaf", "trunk": "x"})
    assert response.status_code == 422
    assert {p["field"] for p in response.json()["detail"]} == {"kind", "trunk"}
    response = client.get(f"{API}/experiments/abc")
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "experiment_id"
