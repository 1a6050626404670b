"""Pieces every training or analysis job shares: data, checkpoints over HTTP, curve rows."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch

from client.contract import Run
from worker import task_registry
from worker.checkpoint import Checkpoint, load_checkpoint, rng_state, save_member
from worker.data.dataset import DataSplits
from worker.jobs.context import JobContext, JobError, LeaseLost, MetricSink
from worker.task_registry import Task
from worker.training.evaluate import evaluate
from worker.training.loop import (
    Callback,
    CheckpointAt,
    EvalEvery,
    NonFiniteGuard,
    StopWhen,
    Strategy,
    TrainingDiverged,
    TrainState,
    choose_strategy,
    train,
)
from worker.training.optim import OptState
from worker.training.params import Params, template

CURVE_NAMES = ("train_loss", "train_accuracy", "test_loss", "test_accuracy")


def task_of(ctx: JobContext) -> Task:
    try:
        return task_registry.get(ctx.spec.task)
    except ValueError as exc:
        raise JobError(str(exc)) from exc


def load_data(ctx: JobContext, task: Task) -> DataSplits:
    """The spec's part of the task's data on the job's device; missing data fails for good."""
    spec = ctx.spec
    try:
        return task.data(
            ctx.settings.data_dir,
            train_size=spec.train_size(),
            test_size=spec.data.test_size,
            device=ctx.device,
            download=ctx.settings.download,
        )
    except (FileNotFoundError, ValueError) as exc:
        raise JobError(f"data for task {task.name}: {exc}") from exc


def fetch_checkpoint(ctx: JobContext, run: Run, step: int) -> Checkpoint:
    data = ctx.client.download_checkpoint(run.id, step)
    return load_checkpoint(data, ctx.device)


def checkpoint_uploader(ctx: JobContext, runs: list[Run]) -> Callable[[TrainState], None]:
    """Uploads member i of the stacked state as runs[i]'s checkpoint at the state's step."""

    def upload(state: TrainState) -> None:
        for member, run in enumerate(runs):
            data = save_member(
                params=state.params,
                buffers=state.buffers,
                opt_state=state.opt_state,
                member=member,
                step=state.step,
                rng=rng_state(run.data_seed, state.step),
            )
            ctx.client.upload_checkpoint(run.id, state.step, data)

    return upload


def training_callbacks(
    ctx: JobContext, task: Task, data: DataSplits, runs: list[Run], sink: MetricSink
) -> list[Callback]:
    """Divergence check, stop on a lost lease, and training-curve rows every eval_every steps."""
    model = template(task.model)

    def curves(state: TrainState) -> dict[str, torch.Tensor]:
        train_loss, train_acc = evaluate(
            model=model,
            params=state.params,
            buffers=state.buffers,
            data=data.train,
            loss_fn=task.loss,
        )
        test_loss, test_acc = evaluate(
            model=model,
            params=state.params,
            buffers=state.buffers,
            data=data.test,
            loss_fn=task.loss,
        )
        return dict(zip(CURVE_NAMES, (train_loss, train_acc, test_loss, test_acc), strict=True))

    def write(step: int, values: dict[str, torch.Tensor]) -> None:
        for name, per_member in values.items():
            for run, value in zip(runs, per_member.tolist(), strict=True):
                sink.add(run.id, step, name, value)

    return [
        NonFiniteGuard(),
        StopWhen(lambda _state: ctx.lease_lost.is_set(), reason="lease lost"),
        EvalEvery(ctx.spec.eval_every.steps, curves, write),
    ]


def train_members(
    ctx: JobContext,
    *,
    task: Task,
    data: DataSplits,
    runs: list[Run],
    params: Params,
    buffers: Params,
    opt_state: OptState,
    start_step: int,
    end_step: int,
    checkpoint_steps: Iterable[int],
    what: str,
) -> Strategy:
    """Train the stacked members (one per run) with the job's fixed callbacks; returns the
    strategy used. A divergence fails the job for good; a lost lease stops it quietly."""
    strategy = choose_strategy(ctx.device, ctx.settings.branch_strategy)
    sink = MetricSink(ctx.client)
    callbacks = [
        *training_callbacks(ctx, task, data, runs, sink),
        CheckpointAt(checkpoint_steps, checkpoint_uploader(ctx, runs)),
    ]
    try:
        state = train(
            model=template(task.model),
            params=params,
            buffers=buffers,
            opt_state=opt_state,
            optimizer=ctx.spec.optimizer,
            data=data.train,
            data_seeds=[run.data_seed for run in runs],
            start_step=start_step,
            end_step=end_step,
            batch_size=ctx.spec.batch_size,
            callbacks=callbacks,
            strategy=strategy,
            loss_fn=task.loss,
        )
    except TrainingDiverged as exc:
        raise JobError(f"{what}: {exc}") from exc
    if state.stopped:
        raise LeaseLost(state.stop_reason or "stopped")
    sink.flush()
    return strategy
