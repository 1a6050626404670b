from __future__ import annotations

import pytest
import torch

from worker.training import data_order as D


def test_epoch_permutation_is_a_deterministic_permutation() -> None:
    perm = D.epoch_permutation(3, 0, 100)
    assert perm.dtype == torch.int64
    assert sorted(perm.tolist()) == list(range(100))
    assert torch.equal(perm, D.epoch_permutation(3, 0, 100))
    assert not torch.equal(perm, D.epoch_permutation(3, 1, 100))
    assert not torch.equal(perm, D.epoch_permutation(4, 0, 100))


def test_epoch_seed_is_pinned() -> None:
    """Changing the hash would silently change every stored run's data order on resume."""
    assert D.epoch_seed(0, 0) == D.epoch_seed(0, 0)
    assert D.epoch_seed(0, 0) == 5045635387300197226
    assert 0 <= D.epoch_seed(2**63 - 1, 10**6) < 2**63


def test_batches_tile_each_epoch_and_drop_the_last_partial_batch() -> None:
    n, b = 10, 3  # 3 steps per epoch, example perm[9] unused each epoch
    assert D.steps_per_epoch(n, b) == 3
    assert D.position(7, n, b) == (2, 1)
    for epoch in range(3):
        perm = D.epoch_permutation(5, epoch, n)
        got = torch.cat([D.batch_indices(5, epoch * 3 + k, n, b) for k in range(3)])
        assert torch.equal(got, perm[:9])


def test_resuming_at_any_step_gives_the_same_batches() -> None:
    n, b, seeds = 50, 8, [11, 12, 13]
    reference = [[D.batch_indices(s, step, n, b) for s in seeds] for step in range(40)]
    for resume_at in (0, 5, 6, 23):
        orders = D.EpochOrders(seeds, n, b, torch.device("cpu"))
        for step in range(resume_at, 40):
            assert torch.equal(orders.indices(step), torch.stack(reference[step]))  # (P, B)


def test_errors() -> None:
    with pytest.raises(ValueError, match="exceeds the 5 examples"):
        D.steps_per_epoch(5, 6)
    with pytest.raises(ValueError, match="step must be >= 0"):
        D.batch_indices(0, -1, 10, 2)
