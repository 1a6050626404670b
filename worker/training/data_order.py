"""Minibatch order as a pure function of (data seed, epoch): resumable, batchable, re-runnable.

DESIGN §5: branch i's sequence of minibatches depends on nothing but its seed z_i and the global
step, so a branch trained batched with its siblings, alone, or resumed from any checkpoint sees
the same examples. An epoch is floor(N / batch_size) steps; the last partial batch is dropped.
The permutation is drawn on the CPU, so it is the same on every device.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

import torch
from torch import Tensor


def epoch_seed(seed: int, epoch: int) -> int:
    """A 63-bit seed for one epoch's permutation: a hash, so any epoch is computed alone."""
    digest = hashlib.sha256(f"lmclab-data-order/{seed}/{epoch}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def steps_per_epoch(n: int, batch_size: int) -> int:
    """floor(N / batch_size); an error when an epoch would have no step."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if batch_size > n:
        raise ValueError(f"batch_size {batch_size} exceeds the {n} examples: an epoch has no step")
    return n // batch_size


@lru_cache(maxsize=64)
def _permutation_cpu(seed: int, epoch: int, n: int) -> Tensor:
    generator = torch.Generator(device="cpu").manual_seed(epoch_seed(seed, epoch))
    return torch.randperm(n, generator=generator)


def epoch_permutation(seed: int, epoch: int, n: int, device: torch.device | str = "cpu") -> Tensor:
    """The order (n,) int64 in which epoch `epoch` visits the examples, on `device`."""
    if epoch < 0:
        raise ValueError(f"epoch must be >= 0, got {epoch}")
    return _permutation_cpu(seed, epoch, n).to(device, copy=True)


def position(step: int, n: int, batch_size: int) -> tuple[int, int]:
    """Global step -> (epoch, index of the batch within the epoch)."""
    if step < 0:
        raise ValueError(f"step must be >= 0, got {step}")
    per_epoch = steps_per_epoch(n, batch_size)
    return step // per_epoch, step % per_epoch


def batch_indices(
    seed: int, step: int, n: int, batch_size: int, device: torch.device | str = "cpu"
) -> Tensor:
    """The example indices (batch_size,) int64 of global step `step` for data seed `seed`."""
    epoch, k = position(step, n, batch_size)
    perm = _permutation_cpu(seed, epoch, n)
    return perm[k * batch_size : (k + 1) * batch_size].to(device, copy=True)


class EpochOrders:
    """The training loop's view of several members' orders: one device-resident permutation per
    member, redrawn only when a member enters a new epoch (same values as `batch_indices`)."""

    def __init__(self, seeds: list[int], n: int, batch_size: int, device: torch.device) -> None:
        steps_per_epoch(n, batch_size)  # validate once
        self.seeds = list(seeds)
        self.n = n
        self.batch_size = batch_size
        self.device = device
        self._epoch = -1
        self._perms: Tensor | None = None  # (P, n)

    def indices(self, step: int) -> Tensor:
        """(P, batch_size) int64 on the device: every member's minibatch at global `step`."""
        epoch, k = position(step, self.n, self.batch_size)
        if epoch != self._epoch or self._perms is None:
            perms = [_permutation_cpu(s, epoch, self.n) for s in self.seeds]
            self._perms = torch.stack(perms).to(self.device)  # (P, n)
            self._epoch = epoch
        return self._perms[:, k * self.batch_size : (k + 1) * self.batch_size]  # (P, B)
