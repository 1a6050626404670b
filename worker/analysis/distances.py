"""Euclidean distances between flat parameter vectors (DESIGN §4), accumulated in float64.

Endpoints of a hull lie far from the origin compared with their mutual distances, so the
expansion ||a||² + ||b||² - 2a·b would cancel badly in float32; these compute the differences
themselves, one reference point at a time, in float64.
"""

from __future__ import annotations

import torch
from torch import Tensor


def distances_to(points: Tensor, reference: Tensor) -> Tensor:
    """||points_i - reference|| for points (P, D) and reference (D,) -> (P,) float64."""
    if points.dim() != 2 or reference.shape != points.shape[1:]:
        raise ValueError(
            f"expected points (P, D) and reference (D,), got {tuple(points.shape)}, "
            f"{tuple(reference.shape)}"
        )
    diff = points.to(torch.float64) - reference.to(torch.float64)  # (P, D)
    return torch.linalg.vector_norm(diff, dim=1)  # (P,)


def pairwise_distances(points: Tensor) -> Tensor:
    """||W_i - W_j|| for points (P, D) -> (P, P) float64, symmetric with a zero diagonal."""
    if points.dim() != 2:
        raise ValueError(f"expected points (P, D), got {tuple(points.shape)}")
    p = points.shape[0]
    out = torch.zeros(p, p, dtype=torch.float64, device=points.device)  # (P, P)
    for i in range(p - 1):
        d = distances_to(points[i + 1 :], points[i])  # (P - i - 1,)
        out[i, i + 1 :] = d
        out[i + 1 :, i] = d
    return out


def mean_pairwise_distance(distances: Tensor) -> float:
    """The mean of ||W_i - W_j|| over pairs i < j of a (P, P) distance matrix."""
    p = distances.shape[0]
    if p < 2:
        raise ValueError("a mean over pairs needs at least 2 points")
    iu = torch.triu_indices(p, p, offset=1)  # (2, P(P-1)/2)
    return float(distances[iu[0], iu[1]].mean())
