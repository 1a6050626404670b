"""Convex mode connectivity: Algorithm 1 of Yunis et al., exactly as DESIGN §4 defines it.

For j = 1..J: a ~ Dirichlet(1, ..., 1) over the P endpoints; W_conv = Σ a_i W_i;
W_end = argmin_i ||W_conv - W_i||; ε ~ N(0, I); W_rand = W_end + (||W_end - W_conv|| / ||ε||) ε;
I_conv = 1[L(W_conv) < L(W_end)], I_rand = 1[L(W_rand) < L(W_end)]. P_conv and P_rand are the
means of I over the J samples and their error bars std(I) (population std, ddof 0). W_rand is the
control: a point as far from the same endpoint in a random direction.

Pure: a function of the endpoints, an evaluator and a generator. Every random number is drawn up
front in a fixed order (the J Dirichlet weights, then one seed per sample for its ε), so the
samples do not depend on `chunk`, and pass a CPU generator to get the same samples on any device.
Combinations and distances are formed in float64; the points are evaluated in the endpoints'
dtype, the J conv points and J rand points of a chunk in one call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

Evaluator = Callable[[Tensor], tuple[Tensor, Tensor]]
"""W (M, D) -> (loss (M,), accuracy (M,))."""


@dataclass(frozen=True)
class HullSampling:
    """Everything Algorithm 1 computed, as plain numbers: the summary and every sample j."""

    p_conv: float
    p_rand: float
    p_conv_std: float
    p_rand_std: float
    endpoint_loss: list[float]  # (P,)
    endpoint_acc: list[float]  # (P,)
    weights: list[list[float]]  # (J, P), Dirichlet(1) weights a
    closest: list[int]  # (J,), index of W_end
    distance: list[float]  # (J,), ||W_conv - W_end|| = ||W_rand - W_end||
    loss_conv: list[float]
    loss_end: list[float]
    loss_rand: list[float]
    acc_conv: list[float]
    acc_end: list[float]
    acc_rand: list[float]
    conv_lower: list[bool]  # I_conv
    rand_lower: list[bool]  # I_rand

    @property
    def samples(self) -> int:
        return len(self.closest)

    @property
    def mean_distance(self) -> float:
        return sum(self.distance) / len(self.distance)


def dirichlet_weights(samples: int, p: int, generator: torch.Generator) -> Tensor:
    """(samples, P) float64 draws of Dirichlet(1, ..., 1): normalized Exp(1) variables."""
    e = torch.empty(samples, p, dtype=torch.float64, device=generator.device)  # (J, P)
    e.exponential_(generator=generator)
    return e / e.sum(dim=1, keepdim=True)


def random_directions(seeds: Tensor, d: int, device: torch.device) -> Tensor:
    """(len(seeds), D) float64: ε_j ~ N(0, I) drawn from a generator seeded by seeds[j]."""
    rows = []
    for seed in seeds.tolist():
        g = torch.Generator(device=seeds.device).manual_seed(int(seed))
        rows.append(torch.randn(d, generator=g, device=seeds.device))
    return torch.stack(rows).to(device=device, dtype=torch.float64)  # (c, D)


def closest_endpoints(points: Tensor, endpoints: Tensor) -> tuple[Tensor, Tensor]:
    """For points (c, D), endpoints (P, D), both float64: (argmin index (c,), min distance (c,))."""
    dists = torch.stack(
        [torch.linalg.vector_norm(points - endpoints[i], dim=1) for i in range(endpoints.shape[0])],
        dim=1,
    )  # (c, P)
    distance, index = dists.min(dim=1)
    return index, distance


def sample_convex_hull(
    *,
    endpoints: Tensor,
    evaluate: Evaluator,
    samples: int,
    generator: torch.Generator,
    chunk: int = 64,
) -> HullSampling:
    """Run Algorithm 1 on the hull of `endpoints` (P, D) with J = `samples` samples."""
    if endpoints.dim() != 2 or endpoints.shape[0] < 2:
        raise ValueError(f"expected endpoints (P >= 2, D), got {tuple(endpoints.shape)}")
    if samples < 1 or chunk < 1:
        raise ValueError("samples and chunk must be >= 1")
    p, d = endpoints.shape
    device = endpoints.device
    w64 = endpoints.to(torch.float64)  # (P, D)

    end_loss, end_acc = (t.to(torch.float64).cpu() for t in evaluate(endpoints))  # (P,), (P,)
    weights = dirichlet_weights(samples, p, generator)  # (J, P)
    noise_seeds = torch.randint(
        0, 2**62, (samples,), generator=generator, device=generator.device
    )  # (J,)

    closest: list[Tensor] = []
    distance: list[Tensor] = []
    loss_conv: list[Tensor] = []
    loss_rand: list[Tensor] = []
    acc_conv: list[Tensor] = []
    acc_rand: list[Tensor] = []
    for lo in range(0, samples, chunk):
        hi = min(lo + chunk, samples)
        c = hi - lo
        w_conv = weights[lo:hi].to(device) @ w64  # (c, D)
        index, dist = closest_endpoints(w_conv, w64)  # (c,), (c,)
        w_end = w64[index]  # (c, D)
        eps = random_directions(noise_seeds[lo:hi], d, device)  # (c, D)
        scale = dist / torch.linalg.vector_norm(eps, dim=1)  # (c,)
        w_rand = w_end + scale.unsqueeze(1) * eps  # (c, D)
        points = torch.cat([w_conv, w_rand]).to(endpoints.dtype)  # (2c, D)
        loss, acc = (t.to(torch.float64).cpu() for t in evaluate(points))  # (2c,), (2c,)
        closest.append(index.cpu())
        distance.append(dist.cpu())
        loss_conv.append(loss[:c])
        loss_rand.append(loss[c:])
        acc_conv.append(acc[:c])
        acc_rand.append(acc[c:])

    idx = torch.cat(closest)  # (J,)
    l_conv, l_rand = torch.cat(loss_conv), torch.cat(loss_rand)  # (J,), (J,)
    l_end = end_loss[idx]  # (J,)
    i_conv = l_conv < l_end  # (J,)
    i_rand = l_rand < l_end  # (J,)
    return HullSampling(
        p_conv=float(i_conv.double().mean()),
        p_rand=float(i_rand.double().mean()),
        p_conv_std=float(i_conv.double().std(correction=0)),
        p_rand_std=float(i_rand.double().std(correction=0)),
        endpoint_loss=end_loss.tolist(),
        endpoint_acc=end_acc.tolist(),
        weights=weights.cpu().tolist(),
        closest=idx.tolist(),
        distance=torch.cat(distance).tolist(),
        loss_conv=l_conv.tolist(),
        loss_end=l_end.tolist(),
        loss_rand=l_rand.tolist(),
        acc_conv=torch.cat(acc_conv).tolist(),
        acc_end=end_acc[idx].tolist(),
        acc_rand=torch.cat(acc_rand).tolist(),
        conv_lower=i_conv.tolist(),
        rand_lower=i_rand.tolist(),
    )
