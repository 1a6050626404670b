"""Train trunk r from its init to the last split point, checkpointing at every split step.

Idempotent and resumable: a re-run starts from the newest checkpoint an earlier attempt left
(the data order is a function of (seed, step), so the result is the same as uninterrupted).
"""

from __future__ import annotations

from worker.jobs.common import (
    checkpoint_uploader,
    fetch_checkpoint,
    load_data,
    task_of,
    training_callbacks,
)
from worker.jobs.context import JobContext, JobError, JobOutcome, LeaseLost, MetricSink
from worker.training import optim
from worker.training.loop import CheckpointAt, TrainingDiverged, choose_strategy, train
from worker.training.params import init_state, repeat, template


def run_trunk(ctx: JobContext) -> JobOutcome:
    spec, run = ctx.spec, ctx.trunk_run
    task = task_of(ctx)
    data = load_data(ctx, task)
    end = spec.trunk_steps()
    if run.init_seed is None:
        raise JobError(f"trunk run {run.id} has no init seed")

    done = [c.step for c in ctx.client.list_checkpoints(run.id) if c.step <= end]
    if done:
        start = max(done)
        ckpt = fetch_checkpoint(ctx, run, start)
        params, buffers, opt_state = ckpt.params, ckpt.buffers, ckpt.opt_state
    else:
        start = 0
        params, buffers = init_state(task.model, run.init_seed, ctx.device)
        opt_state = optim.init_state(spec.optimizer, params, stacked=False)

    sink = MetricSink(ctx.client)
    strategy = choose_strategy(ctx.device, ctx.settings.branch_strategy)
    callbacks = [
        *training_callbacks(ctx, task, data, [run], sink),
        CheckpointAt(spec.split_steps(), checkpoint_uploader(ctx, [run])),
    ]
    try:
        state = train(
            model=template(task.model),
            params=repeat(params, 1),  # (1, ...): a trunk is one member
            buffers=repeat(buffers, 1),
            opt_state=repeat(opt_state, 1),
            optimizer=spec.optimizer,
            data=data.train,
            data_seeds=[run.data_seed],
            start_step=start,
            end_step=end,
            batch_size=spec.batch_size,
            callbacks=callbacks,
            strategy=strategy,
            loss_fn=task.loss,
        )
    except TrainingDiverged as exc:
        raise JobError(f"trunk {run.trunk}: {exc}") from exc
    if state.stopped:
        raise LeaseLost(state.stop_reason or "stopped")
    sink.flush()
    return JobOutcome(
        info={
            "strategy": strategy,
            "device": str(ctx.device),
            "resumed_from": start,
            "steps": end - start,
        }
    )
