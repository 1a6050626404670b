from __future__ import annotations

import pytest
import torch

from worker.analysis.distances import distances_to, mean_pairwise_distance, pairwise_distances


def test_distances_by_hand() -> None:
    points = torch.tensor([[0.0, 0.0], [3.0, 4.0], [6.0, 8.0]])
    d = pairwise_distances(points)
    assert d.dtype == torch.float64
    assert d.tolist() == [[0.0, 5.0, 10.0], [5.0, 0.0, 5.0], [10.0, 5.0, 0.0]]
    assert distances_to(points, torch.tensor([0.0, 0.0])).tolist() == [0.0, 5.0, 10.0]
    assert distances_to(points, torch.tensor([3.0, 0.0])).tolist() == [
        3.0,
        4.0,
        pytest.approx(73**0.5),
    ]
    assert mean_pairwise_distance(d) == pytest.approx(20 / 3)


def test_far_from_the_origin_the_differences_stay_exact() -> None:
    base = torch.full((1, 1000), 1e4, dtype=torch.float32)
    points = torch.cat([base, base + 0.5])  # float32 represents both exactly
    assert pairwise_distances(points)[0, 1].item() == pytest.approx(0.5 * 1000**0.5, rel=1e-12)


def test_shape_errors() -> None:
    with pytest.raises(ValueError, match=r"\(P, D\)"):
        pairwise_distances(torch.zeros(3))
    with pytest.raises(ValueError, match="reference"):
        distances_to(torch.zeros(2, 3), torch.zeros(2))
    with pytest.raises(ValueError, match="at least 2"):
        mean_pairwise_distance(torch.zeros(1, 1))
