"""Algorithm 1 on losses whose answers are known (DESIGN §4)."""

from __future__ import annotations

import math

import pytest
import torch
from torch import Tensor

from worker.analysis.cmc import HullSampling, dirichlet_weights, sample_convex_hull

D = 400
P = 5


def _sphere(radius: float = 3.0, seed: int = 0) -> tuple[Tensor, Tensor]:
    """P endpoints on a sphere of `radius` around a centre c, float64."""
    g = torch.Generator().manual_seed(seed)
    centre = torch.randn(D, generator=g, dtype=torch.float64)
    u = torch.randn(P, D, generator=g, dtype=torch.float64)
    return centre + radius * u / u.norm(dim=1, keepdim=True), centre


class Recording:
    """An evaluator of L(W) = sign * ||W - c||^2 that remembers every point it was asked for."""

    def __init__(self, centre: Tensor, sign: float = 1.0) -> None:
        self.centre, self.sign = centre, sign
        self.calls: list[Tensor] = []

    def __call__(self, w: Tensor) -> tuple[Tensor, Tensor]:
        self.calls.append(w.clone())
        loss = self.sign * ((w - self.centre) ** 2).sum(dim=1)
        return loss, -loss


def _run(
    evaluate: Recording, endpoints: Tensor, samples: int = 50, chunk: int = 16, seed: int = 0
) -> HullSampling:
    return sample_convex_hull(
        endpoints=endpoints,
        evaluate=evaluate,
        samples=samples,
        generator=torch.Generator().manual_seed(seed),
        chunk=chunk,
    )


def test_bowl_convex_samples_always_lower_random_ones_not() -> None:
    endpoints, centre = _sphere()
    result = _run(Recording(centre), endpoints, samples=100)
    assert result.p_conv == 1.0 and result.p_conv_std == 0.0
    assert result.p_rand <= 0.02  # in 400 dimensions a random step almost never goes inward
    assert all(result.conv_lower)


def test_concave_loss_convex_samples_never_lower() -> None:
    endpoints, centre = _sphere()
    result = _run(Recording(centre, sign=-1.0), endpoints)
    assert result.p_conv == 0.0 and not any(result.conv_lower)


def test_sample_geometry_and_bookkeeping() -> None:
    endpoints, centre = _sphere()
    evaluator = Recording(centre)
    result = _run(evaluator, endpoints, samples=40, chunk=16)
    weights = torch.tensor(result.weights, dtype=torch.float64)  # (J, P)
    assert weights.shape == (40, P) and (weights >= 0).all()
    torch.testing.assert_close(weights.sum(dim=1), torch.ones(40, dtype=torch.float64))

    # Calls: the endpoints, then each chunk's conv points followed by its rand points.
    assert torch.equal(evaluator.calls[0], endpoints)
    assert [c.shape[0] for c in evaluator.calls[1:]] == [32, 32, 16]
    conv = torch.cat([c[: c.shape[0] // 2] for c in evaluator.calls[1:]])  # (J, D)
    rand = torch.cat([c[c.shape[0] // 2 :] for c in evaluator.calls[1:]])  # (J, D)
    torch.testing.assert_close(conv, weights @ endpoints)

    brute = torch.cdist(conv, endpoints)  # (J, P)
    assert result.closest == brute.argmin(dim=1).tolist()
    torch.testing.assert_close(
        torch.tensor(result.distance, dtype=torch.float64), brute.min(dim=1).values
    )
    w_end = endpoints[result.closest]  # (J, D)
    torch.testing.assert_close(
        (rand - w_end).norm(dim=1), (conv - w_end).norm(dim=1), rtol=1e-12, atol=0
    )

    end_loss = torch.tensor(result.endpoint_loss, dtype=torch.float64)
    assert result.loss_end == end_loss[result.closest].tolist()
    assert result.acc_end == [-v for v in result.loss_end]
    assert result.conv_lower == [
        c < e for c, e in zip(result.loss_conv, result.loss_end, strict=True)
    ]
    assert result.rand_lower == [
        r < e for r, e in zip(result.loss_rand, result.loss_end, strict=True)
    ]
    assert result.samples == 40
    assert result.mean_distance == pytest.approx(sum(result.distance) / 40)


def test_std_is_the_population_std_of_the_indicators() -> None:
    endpoints, centre = _sphere()
    # Lower than the endpoint only on one side of a hyperplane: a mix of 0s and 1s.
    direction = torch.zeros(D, dtype=torch.float64)
    direction[0] = 1.0

    def half(w: Tensor) -> tuple[Tensor, Tensor]:
        loss = (w - centre) @ direction
        return loss, loss

    result = sample_convex_hull(
        endpoints=endpoints,
        evaluate=half,
        samples=200,
        generator=torch.Generator().manual_seed(1),
        chunk=50,
    )
    p = result.p_conv
    assert 0 < p < 1
    assert result.p_conv_std == pytest.approx(math.sqrt(p * (1 - p)))
    assert result.p_rand_std == pytest.approx(math.sqrt(result.p_rand * (1 - result.p_rand)))


def test_samples_do_not_depend_on_the_chunk_and_repeat_with_the_seed() -> None:
    endpoints, centre = _sphere()
    a = _run(Recording(centre), endpoints, samples=30, chunk=4)
    b = _run(Recording(centre), endpoints, samples=30, chunk=64)
    assert a == b
    c = _run(Recording(centre), endpoints, samples=30, chunk=4, seed=1)
    assert c.weights != a.weights


def test_float32_endpoints_are_evaluated_in_float32() -> None:
    endpoints, centre = _sphere()
    evaluator = Recording(centre.float())
    result = _run(evaluator, endpoints.float(), samples=8)
    assert all(c.dtype == torch.float32 for c in evaluator.calls)
    assert result.p_conv == 1.0


def test_dirichlet_weights_are_uniform_on_the_simplex() -> None:
    w = dirichlet_weights(20_000, 3, torch.Generator().manual_seed(0))  # (J, 3)
    torch.testing.assert_close(
        w.mean(dim=0), torch.full((3,), 1 / 3, dtype=torch.float64), atol=0.01, rtol=0
    )
    # Dirichlet(1,1,1): each weight's marginal is Beta(1, 2), variance 1/18.
    torch.testing.assert_close(
        w.var(dim=0), torch.full((3,), 1 / 18, dtype=torch.float64), atol=0.003, rtol=0
    )


def test_argument_errors() -> None:
    with pytest.raises(ValueError, match="P >= 2"):
        _run(Recording(torch.zeros(D)), torch.zeros(1, D))
    with pytest.raises(ValueError, match="samples"):
        _run(Recording(torch.zeros(D)), torch.zeros(2, D), samples=0)


def test_with_the_lenet_flat_evaluator(shipped_small_hull: tuple) -> None:
    endpoints, evaluator, direct = shipped_small_hull
    result = sample_convex_hull(
        endpoints=endpoints,
        evaluate=evaluator,
        samples=6,
        generator=torch.Generator().manual_seed(0),
        chunk=4,
    )
    want_loss, want_acc = direct(endpoints)
    assert result.endpoint_loss == pytest.approx(want_loss.tolist(), rel=1e-6)
    assert result.endpoint_acc == pytest.approx(want_acc.tolist())
    weights = torch.tensor(result.weights, dtype=torch.float64)  # (J, P)
    conv = (weights @ endpoints.double()).float()  # (J, D)
    loss_conv, _ = direct(conv)
    assert result.loss_conv == pytest.approx(loss_conv.tolist(), rel=1e-5)
    assert 0.0 <= result.p_conv <= 1.0 and len(result.rand_lower) == 6


@pytest.fixture(scope="module")
def shipped_small_hull() -> tuple:
    """Three LeNet-5 inits as endpoints, evaluated on 64 real images, plus a plain reference."""
    import torch.nn.functional as F

    from worker.data.cifar10 import load_cifar10
    from worker.models.lenet import LeNet5
    from worker.models.registry import get
    from worker.training.evaluate import make_flat_evaluator
    from worker.training.params import flatten, init_state, stack, template, unflatten

    factory = get("lenet5")
    data = load_cifar10(train_size=64, test_size=8).train
    members = [init_state(factory, s)[0] for s in range(3)]
    endpoints = flatten(stack(members))  # (3, D)
    evaluator = make_flat_evaluator(model=template(factory), like=members[0], data=data)

    def direct(w: Tensor) -> tuple[Tensor, Tensor]:
        losses, accs = [], []
        stacked = unflatten(w, like=members[0])  # (M, ...)
        for row in range(w.shape[0]):
            model = LeNet5()
            model.load_state_dict({n: t[row] for n, t in stacked.items()})
            with torch.no_grad():
                logits = model(data.x)
            losses.append(F.cross_entropy(logits, data.y).item())
            accs.append((logits.argmax(1) == data.y).double().mean().item())
        return torch.tensor(losses, dtype=torch.float64), torch.tensor(accs, dtype=torch.float64)

    return endpoints, evaluator, direct
