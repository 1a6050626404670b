"""The stacked optimizers against torch.optim, member by member (DESIGN §6: SGD and Adam are
elementwise, so one step over (P, ...) equals P separate runs)."""

from __future__ import annotations

import pytest
import torch

from client.contract.spec import OptimizerSpec
from worker.training import optim
from worker.training.params import Params, select

SHAPES = {"w": (4, 3), "b": (3,)}
P = 3
STEPS = 20


def _grads(params: Params, t: int) -> Params:
    """Gradients that depend on the parameters and the step, like real ones."""
    return {n: torch.sin(p * (1.0 + 0.1 * t)) + 0.05 * p**2 for n, p in params.items()}


def _start() -> list[Params]:
    g = torch.Generator().manual_seed(0)
    return [{n: torch.randn(s, generator=g) for n, s in SHAPES.items()} for _ in range(P)]


def _reference(make: type[torch.optim.Optimizer], kwargs: dict, start: Params) -> Params:
    tensors = {n: t.clone().requires_grad_(True) for n, t in start.items()}
    opt = make(list(tensors.values()), **kwargs)
    for t in range(STEPS):
        opt.zero_grad()
        grads = _grads({n: v.detach() for n, v in tensors.items()}, t)
        for n, v in tensors.items():
            v.grad = grads[n]
        opt.step()
    return {n: v.detach() for n, v in tensors.items()}


def _stacked(config: optim.OptimizerConfig, start: list[Params]) -> tuple[Params, Params]:
    params = {n: torch.stack([m[n] for m in start]) for n in SHAPES}  # (P, ...)
    state = optim.init_state(config, params, stacked=True)
    for t in range(STEPS):
        params, state = optim.step(config, params, _grads(params, t), state)
    return params, state


@pytest.mark.parametrize(
    ("config", "kwargs"),
    [
        (OptimizerSpec(name="sgd", lr=0.05), {"lr": 0.05}),
        (
            OptimizerSpec(name="sgd", lr=0.05, momentum=0.9, weight_decay=5e-3),
            {"lr": 0.05, "momentum": 0.9, "weight_decay": 5e-3},
        ),
    ],
)
def test_stacked_sgd_equals_torch_sgd_per_member(config: OptimizerSpec, kwargs: dict) -> None:
    start = _start()
    params, state = _stacked(config, start)
    for i in range(P):
        expected = _reference(torch.optim.SGD, kwargs, start[i])
        got = select(params, i)
        for n in SHAPES:
            torch.testing.assert_close(got[n], expected[n], rtol=1e-6, atol=1e-6)
    assert state["step"].tolist() == [STEPS] * P


@pytest.mark.parametrize("weight_decay", [0.0, 1e-2])
def test_stacked_adam_equals_torch_adam_per_member(weight_decay: float) -> None:
    config = OptimizerSpec(
        name="adam", lr=1e-2, betas=(0.8, 0.99), eps=1e-6, weight_decay=weight_decay
    )
    start = _start()
    params, state = _stacked(config, start)
    kwargs = {"lr": 1e-2, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": weight_decay}
    for i in range(P):
        expected = _reference(torch.optim.Adam, kwargs, start[i])
        got = select(params, i)
        for n in SHAPES:
            torch.testing.assert_close(got[n], expected[n], rtol=1e-6, atol=1e-6)
    assert sorted(state) == ["exp_avg/b", "exp_avg/w", "exp_avg_sq/b", "exp_avg_sq/w", "step"]


def test_first_momentum_buffer_is_the_gradient() -> None:
    config = optim.Optim(name="sgd", lr=0.1, momentum=0.9)
    params = {"w": torch.tensor([[1.0, 2.0]])}
    grads = {"w": torch.tensor([[0.5, -1.0]])}
    state = optim.init_state(config, params, stacked=True)
    new, state = optim.step(config, params, grads, state)
    assert torch.equal(state["momentum/w"], grads["w"])
    torch.testing.assert_close(new["w"], torch.tensor([[0.95, 2.1]]))
    new, state = optim.step(config, new, grads, state)
    torch.testing.assert_close(state["momentum/w"], 1.9 * grads["w"])


def test_members_at_different_steps_follow_their_own_count() -> None:
    config = optim.Optim(name="sgd", lr=0.1, momentum=0.5)
    params = {"w": torch.ones(2, 1)}
    grads = {"w": torch.ones(2, 1)}
    state = {"step": torch.tensor([0, 3]), "momentum/w": torch.full((2, 1), 4.0)}
    _, new_state = optim.step(config, params, grads, state)
    assert new_state["momentum/w"].flatten().tolist() == [1.0, 3.0]  # fresh vs 0.5 * 4 + 1


def test_sgd_without_momentum_keeps_only_the_step() -> None:
    config = optim.Optim(name="sgd", lr=0.1)
    state = optim.init_state(config, {"w": torch.zeros(2, 3)}, stacked=True)
    assert list(state) == ["step"] and state["step"].shape == (2,)
    single = optim.init_state(config, {"w": torch.zeros(3)}, stacked=False)
    assert single["step"].shape == ()


def test_branch_state_reset_or_carry() -> None:
    config = optim.Optim(name="sgd", lr=0.1, momentum=0.9)
    trunk = {"step": torch.tensor(5), "momentum/w": torch.tensor([1.0, 2.0])}
    stacked = {"w": torch.zeros(3, 2)}
    fresh = optim.branch_state(config, trunk, stacked, "reset")
    assert fresh["step"].tolist() == [0, 0, 0] and not fresh["momentum/w"].any()
    carried = optim.branch_state(config, trunk, stacked, "carry")
    assert carried["step"].tolist() == [5, 5, 5]
    assert carried["momentum/w"].tolist() == [[1.0, 2.0]] * 3
    with pytest.raises(ValueError, match="adam needs"):
        optim.branch_state(optim.Optim(name="adam"), trunk, stacked, "carry")


def test_errors() -> None:
    with pytest.raises(ValueError, match="unknown optimizer 'rmsprop'"):
        optim.init_state(optim.Optim(name="rmsprop"), {"w": torch.zeros(1)}, stacked=False)
    config = optim.Optim(name="adam")
    with pytest.raises(ValueError, match="lacks"):
        optim.step(config, {"w": torch.zeros(1)}, {"w": torch.zeros(1)}, {"step": torch.tensor(0)})
