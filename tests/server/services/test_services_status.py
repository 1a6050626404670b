"""Statuses derived from job states (pure functions: no database)."""

from __future__ import annotations

import pytest

from server.services.status import experiment_status, failure_text, hull_status, progress


def test_progress_has_all_six_states() -> None:
    assert progress({"done": 2}) == {
        "pending": 0,
        "queued": 0,
        "running": 0,
        "done": 2,
        "failed": 0,
        "cancelled": 0,
    }


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        ({"pending": 5}, "pending"),
        ({"queued": 1, "pending": 4}, "running"),
        ({"running": 1, "pending": 4}, "running"),
        ({"done": 1, "pending": 4}, "running"),
        ({"done": 5}, "done"),
        ({"failed": 1, "cancelled": 1, "running": 1}, "running"),
        ({"failed": 1, "cancelled": 1, "pending": 1}, "running"),
        ({"failed": 1, "cancelled": 1, "done": 3}, "failed"),
        ({}, "pending"),
    ],
)
def test_experiment_status(counts: dict[str, int], expected: str) -> None:
    assert experiment_status(cancelled=False, counts=counts) == expected


def test_cancel_flag_wins() -> None:
    assert experiment_status(cancelled=True, counts={"done": 5}) == "cancelled"


@pytest.mark.parametrize(
    ("branches", "cmc", "expected"),
    [
        ("pending", "pending", "pending"),
        ("queued", "pending", "running"),
        ("running", "pending", "running"),
        ("done", "queued", "running"),
        ("done", "running", "running"),
        ("done", "done", "done"),
        ("failed", "cancelled", "failed"),
        ("done", "failed", "failed"),
        ("cancelled", "cancelled", "cancelled"),
        ("done", "cancelled", "cancelled"),
    ],
)
def test_hull_status(branches: str, cmc: str, expected: str) -> None:
    assert hull_status(branches=branches, cmc=cmc) == expected


def test_failure_text_names_the_job() -> None:
    assert failure_text("trunk", 1, None, "boom") == "trunk (trunk 1): boom"
    assert failure_text("branches", 0, 8, "OOM") == "branches (trunk 0, split 8): OOM"
