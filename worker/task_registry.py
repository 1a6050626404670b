"""The tasks a worker can train, keyed by the names of `client.contract.tasks.BUILTIN_TASKS`.

The server knows each task only by name and sizes (client/contract/tasks.py, no torch); this table
holds what the worker needs: the model factory, the data loader and the per-example loss. A test
keeps the two tables' names and sizes equal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from worker.data.cifar10 import load_cifar10
from worker.data.dataset import DataSplits
from worker.models import registry as models
from worker.models.registry import ModelFactory
from worker.training.losses import LossFn, cross_entropy

DataLoaderFn = Callable[..., DataSplits]
"""(data_dir, *, train_size, test_size, device, download) -> DataSplits."""


@dataclass(frozen=True)
class Task:
    """What training and analysis need of a task; train_size/test_size are the full dataset's."""

    name: str
    model: ModelFactory
    load_data: DataLoaderFn
    loss: LossFn
    train_size: int
    test_size: int

    def data(
        self,
        data_dir: str | Path | None = None,
        *,
        train_size: int | None = None,
        test_size: int | None = None,
        device: torch.device | str = "cpu",
        download: bool = False,
    ) -> DataSplits:
        """The task's data (cached per process by the loader).

        `train_size` defaults to the full dataset's, as the server's step arithmetic assumes
        (`ExperimentSpec.train_size()`); `test_size` defaults to every test image the directory
        holds, since only reports use the test set and the shipped subset has fewer than 10,000.
        """
        return self.load_data(
            data_dir,
            train_size=train_size or self.train_size,
            test_size=test_size,
            device=device,
            download=download,
        )


TASKS: dict[str, Task] = {
    "lenet5-cifar10": Task(
        name="lenet5-cifar10",
        model=models.get("lenet5"),
        load_data=load_cifar10,
        loss=cross_entropy,
        train_size=50_000,
        test_size=10_000,
    ),
}


def get(name: str) -> Task:
    """The task registered as `name`; the error names the tasks that exist."""
    try:
        return TASKS[name]
    except KeyError:
        raise ValueError(
            f"unknown task {name!r}; registered tasks: {', '.join(sorted(TASKS))}"
        ) from None
