"""SGD and Adam as pure elementwise functions of stacked tensors, with PyTorch's exact rules.

Both optimizers act on every scalar separately, so one step over (P, ...) stacked parameters is P
independent steps (DESIGN §6): the branches of a hull take one optimizer step together. The state
is a flat dict of tensors (safetensors-ready): "step" (P,) int64 — the steps already taken, per
member — and per parameter "momentum/<name>" (SGD with momentum) or "exp_avg/<name>",
"exp_avg_sq/<name>" (Adam). Steps return new tensors (nothing in place), so a state handed to a
callback stays valid after the loop moves on.

The rules follow torch.optim's single-tensor paths (dampening 0, no Nesterov, no amsgrad, weight
decay as an L2 term added to the gradient, as in torch.optim.Adam, not AdamW):
  SGD : g = grad + wd·p; buf = g on the first step, else momentum·buf + g; p = p - lr·buf
  Adam: t += 1; g = grad + wd·p; m = lerp(m, g, 1 - β1); v = β2·v + (1 - β2)·g²;
        p = p - (lr / (1 - β1^t)) · m / (sqrt(v) / sqrt(1 - β2^t) + eps)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, Protocol

import torch
from torch import Tensor

from worker.training.params import Params, repeat

OptState = dict[str, Tensor]


class OptimizerConfig(Protocol):
    """What the update rules read; `client.contract.spec.OptimizerSpec` satisfies it.

    A protocol rather than the pydantic model, so training imports with torch alone (benchmarks).
    """

    @property
    def name(self) -> str: ...
    @property
    def lr(self) -> float: ...
    @property
    def momentum(self) -> float: ...
    @property
    def weight_decay(self) -> float: ...
    @property
    def betas(self) -> tuple[float, float]: ...
    @property
    def eps(self) -> float: ...


@dataclass(frozen=True)
class Optim:
    """A plain OptimizerConfig (OptimizerSpec's fields and defaults) for torch-only callers."""

    name: str = "sgd"
    lr: float = 0.01
    momentum: float = 0.0
    weight_decay: float = 0.0
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8


def _check(config: OptimizerConfig) -> None:
    if config.name not in ("sgd", "adam"):
        raise ValueError(f"unknown optimizer {config.name!r}; known: adam, sgd")


def state_keys(config: OptimizerConfig, param_names: list[str]) -> list[str]:
    """The keys a state for `config` holds, besides "step"."""
    _check(config)
    if config.name == "adam":
        return [f"{k}/{n}" for k in ("exp_avg", "exp_avg_sq") for n in param_names]
    if config.momentum != 0:
        return [f"momentum/{n}" for n in param_names]
    return []


def init_state(config: OptimizerConfig, params: Mapping[str, Tensor], *, stacked: bool) -> OptState:
    """A fresh state (no step taken): (P, ...) tensors if `stacked`, else one member's."""
    _check(config)
    if stacked:
        lead = {t.shape[0] for t in params.values()}
        if len(lead) != 1:
            raise ValueError(f"stacked params disagree on the leading axis: {sorted(lead)}")
        step_shape: tuple[int, ...] = (lead.pop(),)
    else:
        step_shape = ()
    device = next(iter(params.values())).device
    state: OptState = {"step": torch.zeros(step_shape, dtype=torch.int64, device=device)}
    for key in state_keys(config, list(params)):
        state[key] = torch.zeros_like(params[key.split("/", 1)[1]])
    return state


def branch_state(
    config: OptimizerConfig,
    split_state: Mapping[str, Tensor],
    stacked_params: Mapping[str, Tensor],
    mode: Literal["reset", "carry"],
) -> OptState:
    """The P branches' starting state at a split: fresh ("reset", the paper's default) or the
    trunk's state at the split copied to every branch ("carry")."""
    if mode == "reset":
        return init_state(config, stacked_params, stacked=True)
    if mode != "carry":
        raise ValueError(f"optimizer_state must be 'reset' or 'carry', got {mode!r}")
    expected = {"step", *state_keys(config, list(stacked_params))}
    if set(split_state) != expected:
        raise ValueError(
            f"the trunk's optimizer state has {sorted(split_state)}, {config.name} needs "
            f"{sorted(expected)}"
        )
    p = next(iter(stacked_params.values())).shape[0]
    return repeat(split_state, p)


def _per_member(value: Tensor, like: Tensor) -> Tensor:
    """(P,) or () -> broadcastable against (P, ...) or (...): one scalar per member."""
    return value.reshape(*value.shape, *([1] * (like.dim() - value.dim())))  # (P, 1, ..., 1)


@torch.no_grad()
def step(
    config: OptimizerConfig,
    params: Mapping[str, Tensor],
    grads: Mapping[str, Tensor],
    state: Mapping[str, Tensor],
) -> tuple[Params, OptState]:
    """One update of every parameter; returns new (params, state). Shapes follow `params`."""
    _check(config)
    missing = [k for k in ("step", *state_keys(config, list(params))) if k not in state]
    if missing:
        raise ValueError(f"{config.name} state lacks {missing}")
    if config.name == "sgd":
        return _sgd(config, params, grads, state)
    return _adam(config, params, grads, state)


def _sgd(
    config: OptimizerConfig,
    params: Mapping[str, Tensor],
    grads: Mapping[str, Tensor],
    state: Mapping[str, Tensor],
) -> tuple[Params, OptState]:
    taken = state["step"]
    new_params: Params = {}
    new_state: OptState = {"step": taken + 1}
    for n, p in params.items():
        g = grads[n]
        if config.weight_decay != 0:
            g = g.add(p, alpha=config.weight_decay)
        if config.momentum != 0:
            buf = state[f"momentum/{n}"].mul(config.momentum).add(g)
            first = _per_member(taken == 0, p)
            buf = torch.where(first, g, buf)  # PyTorch: the first buffer is the gradient itself
            new_state[f"momentum/{n}"] = buf
            g = buf
        new_params[n] = p.add(g, alpha=-config.lr)
    return new_params, new_state


def _adam(
    config: OptimizerConfig,
    params: Mapping[str, Tensor],
    grads: Mapping[str, Tensor],
    state: Mapping[str, Tensor],
) -> tuple[Params, OptState]:
    beta1, beta2 = config.betas
    t = state["step"] + 1
    t64 = t.to(torch.float64)
    # Bias corrections in float64, as torch.optim computes them in Python floats.
    step_size = config.lr / (1 - torch.pow(beta1, t64))
    bc2_sqrt = torch.sqrt(1 - torch.pow(beta2, t64))
    new_params: Params = {}
    new_state: OptState = {"step": t}
    for n, p in params.items():
        g = grads[n]
        if config.weight_decay != 0:
            g = g.add(p, alpha=config.weight_decay)
        m = torch.lerp(state[f"exp_avg/{n}"], g, 1 - beta1)
        v = state[f"exp_avg_sq/{n}"].mul(beta2).addcmul(g, g, value=1 - beta2)
        denom = (v.sqrt() / _per_member(bc2_sqrt, p).to(p.dtype)).add(config.eps)
        new_params[n] = p - _per_member(step_size, p).to(p.dtype) * m / denom
        new_state[f"exp_avg/{n}"] = m
        new_state[f"exp_avg_sq/{n}"] = v
    return new_params, new_state
