"""The spec contract: defaults, derived steps, and one clear error per bad field."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from client.contract import ExperimentSpec
from client.contract.seeds import branch_data_seed, derive_seed, trunk_data_seed, trunk_init_seed
from tests.factories import make_spec


def _error_fields(spec: dict[str, Any]) -> list[str]:
    with pytest.raises(ValidationError) as info:
        ExperimentSpec.model_validate(spec)
    return [".".join(str(p) for p in e["loc"]) for e in info.value.errors()]


def test_a_valid_spec_derives_its_steps() -> None:
    spec = ExperimentSpec.model_validate(
        make_spec(
            data={"train_size": 5000},
            batch_size=128,
            splits={"epochs": [0, 0.5, 1, 8]},
            branches={"count": 4, "epochs": 40},
        )
    )
    assert spec.steps_per_epoch() == 39  # floor(5000 / 128): the partial batch is dropped
    assert spec.split_steps() == [0, 20, 39, 312]  # 0.5 * 39 = 19.5 rounds to 20
    assert spec.trunk_steps() == 312
    assert spec.branch_steps() == 1560
    assert spec.analyses.cmc.samples == 8
    assert spec.branches.optimizer_state == "reset"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"task": "resnet-9000"}, "task"),
        ({"optimizer": {"name": "sgd", "lr": 0}}, "optimizer.lr"),
        ({"optimizer": {"name": "sgd", "lr": -0.1}}, "optimizer.lr"),
        ({"optimizer": {"name": "rmsprop", "lr": 0.1}}, "optimizer.name"),
        ({"optimizer": {"name": "sgd", "lr": 0.1, "momentum": 1.0}}, "optimizer.momentum"),
        ({"splits": {"epochs": [0, -1]}}, "splits.epochs"),
        ({"splits": {"epochs": [1, 1]}}, "splits.epochs"),
        ({"splits": {"epochs": []}}, "splits.epochs"),
        ({"branches": {"count": 1, "epochs": 1}}, "branches.count"),
        ({"branches": {"count": 2, "epochs": 0}}, "branches.epochs"),
        ({"analyses": {"cmc": {"samples": 0}}}, "analyses.cmc.samples"),
        ({"analyses": {"hessian": {}}}, "analyses.hessian"),
        ({"batch_size": 0}, "batch_size"),
        ({"trunks": 0}, "trunks"),
        ({"learning_rate": 0.1}, "learning_rate"),
        ({"seed": -1}, "seed"),
    ],
)
def test_each_bad_field_is_named(change: dict[str, Any], field: str) -> None:
    assert field in _error_fields(make_spec(**change))


def test_split_epochs_that_round_to_one_step_are_rejected() -> None:
    with pytest.raises(ValidationError, match="both round to step"):
        ExperimentSpec.model_validate(make_spec(splits={"epochs": [0.01, 0.02]}))


def test_a_batch_larger_than_the_data_is_rejected() -> None:
    with pytest.raises(ValidationError, match="exceeds"):
        ExperimentSpec.model_validate(make_spec(batch_size=1024, data={"train_size": 512}))


def test_seeds_are_pure_distinct_and_63_bit() -> None:
    seeds = {
        trunk_init_seed(0, 0),
        trunk_data_seed(0, 0),
        trunk_data_seed(0, 1),
        branch_data_seed(0, 0, 10, 0),
        branch_data_seed(0, 0, 10, 1),
        branch_data_seed(0, 0, 20, 0),
        branch_data_seed(1, 0, 10, 0),
    }
    assert len(seeds) == 7
    assert all(0 <= s < 2**63 for s in seeds)
    assert derive_seed(3, "a", 1) == derive_seed(3, "a", 1)
