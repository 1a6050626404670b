from __future__ import annotations

import pytest
import torch

from worker.models import registry
from worker.models.lenet import LeNet5


def test_lenet5_has_exactly_62006_parameters() -> None:
    model = registry.get("lenet5")()
    assert sum(p.numel() for p in model.parameters()) == 62_006
    assert list(model.buffers()) == []


def test_lenet5_layers_and_output_shape() -> None:
    model = LeNet5()
    shapes = {n: tuple(p.shape) for n, p in model.named_parameters()}
    assert shapes == {
        "conv1.weight": (6, 3, 5, 5),
        "conv1.bias": (6,),
        "conv2.weight": (16, 6, 5, 5),
        "conv2.bias": (16,),
        "fc1.weight": (120, 400),
        "fc1.bias": (120,),
        "fc2.weight": (84, 120),
        "fc2.bias": (84,),
        "fc3.weight": (10, 84),
        "fc3.bias": (10,),
    }
    assert model(torch.zeros(7, 3, 32, 32)).shape == (7, 10)


def test_unknown_model_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown model 'resnet9000'.*lenet5"):
        registry.get("resnet9000")
    assert registry.names() == ["lenet5"]
