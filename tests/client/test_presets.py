"""Every shipped preset is a valid spec, and specs load from YAML, JSON and dicts alike."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from client.contract import ExperimentSpec
from client.lab import LabClient, load_spec
from client.presets import preset_names, preset_path


@pytest.mark.parametrize("name", preset_names())
def test_presets_validate(name: str) -> None:
    ExperimentSpec.model_validate(load_spec(preset_path(name)))


def test_the_demo_preset_is_the_cpu_setting_of_design_9() -> None:
    spec = ExperimentSpec.model_validate(load_spec(preset_path("demo")))
    assert spec.optimizer.momentum == 0.9 and spec.optimizer.lr == 0.01
    assert spec.data.train_size == 5000 and spec.branches.count == 4
    assert spec.branches.epochs == 40 and spec.analyses.cmc.samples == 40


def test_unknown_preset_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match="quick"):
        preset_path("nope")


def test_load_spec_reads_yaml_json_dict_and_model(tmp_path: Path) -> None:
    data = yaml.safe_load(preset_path("quick").read_text())
    (tmp_path / "s.json").write_text(json.dumps(data))
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(data))
    model = ExperimentSpec.model_validate(data)
    assert load_spec(tmp_path / "s.json") == data
    assert load_spec(str(tmp_path / "s.yaml")) == data
    assert load_spec(data) == data
    assert ExperimentSpec.model_validate(load_spec(model)) == model
    with pytest.raises(FileNotFoundError):
        load_spec(tmp_path / "missing.yaml")


def test_get_hull_needs_exactly_one_way_to_pick_the_split() -> None:
    with LabClient("http://127.0.0.1:9") as lab, pytest.raises(ValueError, match="exactly one"):
        lab.get_hull(1)
