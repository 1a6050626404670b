from __future__ import annotations

import pytest
import torch

from client.contract.tasks import BUILTIN_TASKS
from worker import task_registry


def test_tasks_match_the_servers_table() -> None:
    assert set(task_registry.TASKS) == set(BUILTIN_TASKS)
    for name, info in BUILTIN_TASKS.items():
        task = task_registry.get(name)
        assert task.name == name
        assert (task.train_size, task.test_size) == (info.train_size, info.test_size)


def test_lenet5_cifar10_pieces() -> None:
    task = task_registry.get("lenet5-cifar10")
    model = task.model()
    assert sum(p.numel() for p in model.parameters()) == 62_006  # "62,006" in TaskInfo
    assert "62,006" in BUILTIN_TASKS["lenet5-cifar10"].description
    logits = torch.tensor([[2.0, 0.0], [0.0, 2.0]])
    losses = task.loss(logits, torch.tensor([0, 0]))
    assert losses.shape == (2,) and losses[0] < losses[1]  # per-example, not reduced


def test_task_data_loads_the_shipped_subset() -> None:
    task = task_registry.get("lenet5-cifar10")
    splits = task.data(train_size=5000)
    assert (len(splits.train), len(splits.test)) == (5000, 1000)  # test: all that is there
    with pytest.raises(ValueError, match="holds 5000 training images"):
        task.data()  # the full 50,000 are not shipped


def test_unknown_task_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown task 'mnist'.*lenet5-cifar10"):
        task_registry.get("mnist")
