"""A dataset as two tensors on the training device, indexed directly by the training loop.

DESIGN §6: the data lives on the device as one tensor and minibatches are gathered by index, so
there is no DataLoader, no worker processes and no host-to-device copy in the hot loop.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass(frozen=True)
class TensorDataset:
    """Inputs `x` (N, ...) and integer labels `y` (N,) on one device.

    Shared between callers (the loader caches it): treat the tensors as read-only.
    """

    x: Tensor
    y: Tensor

    def __post_init__(self) -> None:
        if self.x.shape[0] != self.y.shape[0]:
            raise ValueError(f"x has {self.x.shape[0]} examples but y has {self.y.shape[0]}")
        if self.x.device != self.y.device:
            raise ValueError(f"x is on {self.x.device} but y is on {self.y.device}")

    def __len__(self) -> int:
        return int(self.x.shape[0])

    @property
    def device(self) -> torch.device:
        return self.x.device

    def head(self, n: int) -> TensorDataset:
        """The first `n` examples (views, no copy): the spec's fixed evaluation subset."""
        if not 1 <= n <= len(self):
            raise ValueError(f"cannot take the first {n} of {len(self)} examples")
        return TensorDataset(self.x[:n], self.y[:n])

    def to(self, device: torch.device | str) -> TensorDataset:
        return TensorDataset(self.x.to(device), self.y.to(device))


@dataclass(frozen=True)
class DataSplits:
    """A task's training and test sets."""

    train: TensorDataset
    test: TensorDataset
