"""The one training loop: P members (a trunk is P = 1, a hull's branches P > 1) step together.

Every run — trunk, branches, a resumed run — goes through `train`; what differs (evaluation rows,
checkpoints, divergence checks, cancellation) is added by callbacks, never by flags in the loop.
Two strategies compute the same math:
  "batched"    the members' parameters stacked on a leading P axis, one vmapped forward over
               per-member minibatches (P, B, ...), one loss summed over members, one
               autograd.grad, one optimizer step over the stacked tensors (DESIGN §6);
  "sequential" each member's forward, gradient and optimizer step in turn, inside the same step.
They agree to float rounding (grouped vs plain convolutions); the difference grows with steps, so
a run uses one strategy chosen by a fixed rule (`choose_strategy`) and records it (DESIGN §10).
Both are deterministic: the same inputs give bitwise the same parameters on the CPU, and resuming
from a checkpoint at step s reproduces the uninterrupted run, since the data order is a function
of (seed, step) and no global RNG is drawn.

Buffers are carried through unchanged: LeNet-5 has none; a model whose forward updates its
buffers (BatchNorm in training mode) needs the loop to learn about that first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Generic, Literal, TypeVar

import torch
from torch import Tensor, nn
from torch.func import functional_call, vmap

from worker.data.dataset import TensorDataset
from worker.training import optim
from worker.training.data_order import EpochOrders
from worker.training.losses import LossFn, cross_entropy
from worker.training.optim import OptimizerConfig, OptState
from worker.training.params import Params, members

Strategy = Literal["batched", "sequential"]
STRATEGIES: tuple[Strategy, ...] = ("batched", "sequential")

CPU_STRATEGY: Strategy = "sequential"
"""The CPU choice of `choose_strategy("cpu", "auto")`, from benchmarks/bench_branches.py."""


def choose_strategy(device: torch.device | str, requested: str = "auto") -> Strategy:
    """The fixed rule (DESIGN §10): an explicit request wins; "auto" is batched on CUDA and
    CPU_STRATEGY on the CPU.

    Measured with benchmarks/bench_branches.py on 2 CPU cores (torch 2.14.1, LeNet-5, SGD with
    momentum, batch 128, 50 steps, median of 3): batched took 1.72x the sequential time at P = 4
    (85 vs 49 ms a step) and 2.0x at P = 8 (181 vs 90 ms). vmap turns the convolutions of P
    members into grouped convolutions, whose oneDNN backward on the CPU is slower than P plain
    ones; so the CPU runs sequentially. CUDA is batched as DESIGN §6 plans (not yet measured here:
    rerun the benchmark on a GPU host and update this rule if it disagrees).
    """
    if requested in STRATEGIES:
        return requested
    if requested != "auto":
        raise ValueError(f"unknown strategy {requested!r}; choose auto, batched or sequential")
    return "batched" if torch.device(device).type == "cuda" else CPU_STRATEGY


@dataclass
class TrainState:
    """Where a run stands after `step` optimizer steps (W_step), handed to every callback.

    `losses` (P,) are the minibatch losses of the last step, computed at W_{step-1} before its
    update (None before the first step). Tensors are never modified in place by the loop, so a
    callback may keep references to them.
    """

    step: int
    params: Params  # (P, ...)
    buffers: Params  # (P, ...)
    opt_state: OptState  # (P, ...)
    losses: Tensor | None  # (P,)
    strategy: Strategy
    start_step: int
    end_step: int
    stop_reason: str | None = field(default=None)

    @property
    def members(self) -> int:
        return members(self.params)

    @property
    def stopped(self) -> bool:
        return self.stop_reason is not None

    @property
    def finished(self) -> bool:
        """The run reached end_step (rather than being stopped early)."""
        return self.step >= self.end_step

    def request_stop(self, reason: str) -> None:
        """Ask the loop to stop after this step's callbacks (e.g. the job was cancelled)."""
        self.stop_reason = reason


class Callback:
    """Hooks of the loop; every one is optional. They run in the order they are given."""

    def on_train_start(self, state: TrainState) -> None:
        """Called once with the state at start_step, before any step."""

    def on_step_end(self, state: TrainState) -> None:
        """Called after every optimizer step."""

    def on_train_end(self, state: TrainState) -> None:
        """Called once after the last step (also when stopped early, not after an exception)."""


class TrainingDiverged(RuntimeError):
    """A member's minibatch loss became NaN or infinite: training cannot recover from that."""

    def __init__(self, step: int, member: int, loss: float) -> None:
        super().__init__(
            f"training diverged: the minibatch loss of member {member} at step {step} is {loss} "
            "(lower the learning rate)"
        )
        self.step = step
        self.member = member
        self.loss = loss


R = TypeVar("R")


class EvalEvery(Callback, Generic[R]):
    """`sink(step, evaluate_fn(state))` at every step % every == 0 (start_step included) and at
    the end of a run that reached end_step, once per step."""

    def __init__(
        self, every: int, evaluate_fn: Callable[[TrainState], R], sink: Callable[[int, R], None]
    ) -> None:
        if every < 1:
            raise ValueError(f"every must be >= 1, got {every}")
        self.every = every
        self.evaluate_fn = evaluate_fn
        self.sink = sink
        self._last: int | None = None

    def _run(self, state: TrainState) -> None:
        self.sink(state.step, self.evaluate_fn(state))
        self._last = state.step

    def on_train_start(self, state: TrainState) -> None:
        if state.step % self.every == 0:
            self._run(state)

    def on_step_end(self, state: TrainState) -> None:
        if state.step % self.every == 0:
            self._run(state)

    def on_train_end(self, state: TrainState) -> None:
        if state.finished and self._last != state.step:
            self._run(state)


class CheckpointAt(Callback):
    """`sink(state)` at each of `steps` the run passes through, start_step included (split step
    0 is the init)."""

    def __init__(self, steps: Iterable[int], sink: Callable[[TrainState], None]) -> None:
        self.steps = frozenset(steps)
        self.sink = sink

    def on_train_start(self, state: TrainState) -> None:
        if state.step in self.steps:
            self.sink(state)

    def on_step_end(self, state: TrainState) -> None:
        if state.step in self.steps:
            self.sink(state)


class NonFiniteGuard(Callback):
    """Raises TrainingDiverged naming the step and member when a minibatch loss is NaN/inf.

    Checks every `every` steps (each check waits for the device; NaN parameters stay NaN, so a
    sparser check still catches a divergence, only later)."""

    def __init__(self, every: int = 1) -> None:
        if every < 1:
            raise ValueError(f"every must be >= 1, got {every}")
        self.every = every

    def on_step_end(self, state: TrainState) -> None:
        if state.losses is None or (state.step % self.every and not state.finished):
            return
        bad = ~torch.isfinite(state.losses)
        if bool(bad.any()):
            member = int(bad.nonzero()[0, 0])
            raise TrainingDiverged(state.step - 1, member, float(state.losses[member]))


class StopWhen(Callback):
    """Requests a stop when `predicate(state)` holds, checked at the start and every `every`
    steps (e.g. the job's lease was lost or the experiment cancelled)."""

    def __init__(
        self, predicate: Callable[[TrainState], bool], every: int = 1, reason: str = "stopped"
    ) -> None:
        if every < 1:
            raise ValueError(f"every must be >= 1, got {every}")
        self.predicate = predicate
        self.every = every
        self.reason = reason

    def on_train_start(self, state: TrainState) -> None:
        if self.predicate(state):
            state.request_stop(self.reason)

    def on_step_end(self, state: TrainState) -> None:
        if state.step % self.every == 0 and self.predicate(state):
            state.request_stop(self.reason)


def train(
    *,
    model: nn.Module,
    params: Mapping[str, Tensor],
    buffers: Mapping[str, Tensor],
    opt_state: Mapping[str, Tensor],
    optimizer: OptimizerConfig,
    data: TensorDataset,
    data_seeds: list[int],
    start_step: int,
    end_step: int,
    batch_size: int,
    callbacks: Iterable[Callback] = (),
    strategy: Strategy = "batched",
    loss_fn: LossFn = cross_entropy,
) -> TrainState:
    """Train the P stacked members from start_step to end_step (global steps).

    model: a template for functional_call (its own tensors are ignored; `params.template`);
    params/buffers/opt_state: (P, ...) stacked, on data's device; data_seeds: one per member,
    the member's minibatch order (`data_order`). Returns the final state (check `.stopped`).
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; choose batched or sequential")
    p = members(params)
    if len(data_seeds) != p:
        raise ValueError(f"{p} stacked members but {len(data_seeds)} data seeds")
    if not 0 <= start_step <= end_step:
        raise ValueError(f"need 0 <= start_step <= end_step, got {start_step}, {end_step}")
    callbacks = list(callbacks)
    orders = EpochOrders(data_seeds, len(data), batch_size, data.device)
    one_step = _batched_step if strategy == "batched" else _sequential_step

    state = TrainState(
        step=start_step,
        params=dict(params),
        buffers=dict(buffers),
        opt_state=dict(opt_state),
        losses=None,
        strategy=strategy,
        start_step=start_step,
        end_step=end_step,
    )
    for callback in callbacks:
        callback.on_train_start(state)
    while state.step < end_step and not state.stopped:
        idx = orders.indices(state.step)  # (P, B)
        flat_idx = idx.reshape(-1)  # (P*B,)
        x = data.x.index_select(0, flat_idx)  # (P*B, C, H, W)
        x = x.reshape(p, batch_size, *data.x.shape[1:])  # (P, B, C, H, W)
        y = data.y.index_select(0, flat_idx).reshape(p, batch_size)  # (P, B)
        new_params, new_opt, losses = one_step(
            model, state.params, state.buffers, state.opt_state, optimizer, x, y, loss_fn
        )
        state = replace(
            state, step=state.step + 1, params=new_params, opt_state=new_opt, losses=losses
        )
        for callback in callbacks:
            callback.on_step_end(state)
    for callback in callbacks:
        callback.on_train_end(state)
    return state


_StepResult = tuple[Params, OptState, Tensor]


def _batched_step(
    model: nn.Module,
    params: Params,
    buffers: Params,
    opt_state: OptState,
    optimizer: OptimizerConfig,
    x: Tensor,  # (P, B, C, H, W)
    y: Tensor,  # (P, B)
    loss_fn: LossFn,
) -> _StepResult:
    p, b = y.shape
    leaves = {n: t.detach().requires_grad_(True) for n, t in params.items()}

    def forward(pm: Params, bm: Params, xm: Tensor) -> Tensor:
        return functional_call(model, (pm, bm), (xm,))

    logits = vmap(forward)(leaves, buffers, x)  # (P, B, K)
    per_example = loss_fn(logits.reshape(p * b, *logits.shape[2:]), y.reshape(p * b))  # (P*B,)
    losses = per_example.reshape(p, b).mean(dim=1)  # (P,)
    # The members are independent, so the gradient of the sum is every member's own gradient.
    grads = torch.autograd.grad(losses.sum(), list(leaves.values()))
    named_grads = dict(zip(leaves, grads, strict=True))
    new_params, new_opt = optim.step(optimizer, params, named_grads, opt_state)
    return new_params, new_opt, losses.detach()


def _sequential_step(
    model: nn.Module,
    params: Params,
    buffers: Params,
    opt_state: OptState,
    optimizer: OptimizerConfig,
    x: Tensor,  # (P, B, C, H, W)
    y: Tensor,  # (P, B)
    loss_fn: LossFn,
) -> _StepResult:
    member_params: list[Params] = []
    member_states: list[OptState] = []
    losses: list[Tensor] = []
    for i in range(y.shape[0]):
        leaves = {n: t[i].detach().requires_grad_(True) for n, t in params.items()}
        member_buffers = {n: t[i] for n, t in buffers.items()}
        logits = functional_call(model, (leaves, member_buffers), (x[i],))  # (B, K)
        loss = loss_fn(logits, y[i]).mean()
        grads = torch.autograd.grad(loss, list(leaves.values()))
        state_i = {k: v[i] for k, v in opt_state.items()}
        plain = {n: t[i] for n, t in params.items()}
        new_p, new_s = optim.step(optimizer, plain, dict(zip(leaves, grads, strict=True)), state_i)
        member_params.append(new_p)
        member_states.append(new_s)
        losses.append(loss.detach())
    new_params = {n: torch.stack([m[n] for m in member_params]) for n in params}  # (P, ...)
    new_opt = {k: torch.stack([s[k] for s in member_states]) for k in opt_state}  # (P, ...)
    return new_params, new_opt, torch.stack(losses)  # (P,)
