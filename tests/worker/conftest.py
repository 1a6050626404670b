"""Fixtures of the worker's pure-torch tests: the shipped CIFAR-10 subset and LeNet-5 pieces.

Small sizes throughout: the whole worker suite has to run in about 90 s on 2 CPU cores.
"""

from __future__ import annotations

import pytest
from torch import nn

from worker.data.cifar10 import load_cifar10
from worker.data.dataset import DataSplits, TensorDataset
from worker.models.registry import ModelFactory
from worker.models.registry import get as get_model
from worker.training.params import template


@pytest.fixture(scope="session")
def shipped() -> DataSplits:
    """The whole shipped subset (5,000 train, 1,000 test) on the CPU."""
    return load_cifar10(train_size=5000, test_size=1000, device="cpu")


@pytest.fixture(scope="session")
def small_train(shipped: DataSplits) -> TensorDataset:
    """256 real training images: enough for 100 steps of batch 32 in a few seconds."""
    return shipped.train.head(256)


@pytest.fixture(scope="session")
def lenet_factory() -> ModelFactory:
    return get_model("lenet5")


@pytest.fixture(scope="session")
def lenet_template(lenet_factory: ModelFactory) -> nn.Module:
    return template(lenet_factory)
