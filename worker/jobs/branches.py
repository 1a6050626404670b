"""Train the P branches of one hull together from the trunk's checkpoint at the split step.

Each branch has its own data order z_i; the endpoint W_T^i is uploaded as the branch run's
checkpoint at step split + T. Idempotent: when every endpoint is already stored (an earlier
attempt died before reporting), nothing is trained again.
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
from worker.training.params import repeat, template


def run_branches(ctx: JobContext) -> JobOutcome:
    spec, job = ctx.spec, ctx.assignment.job
    if job.split_step is None:
        raise JobError(f"branches job {job.id} has no split step")
    split, branches = job.split_step, ctx.branch_runs
    end = split + spec.branch_steps()
    strategy = choose_strategy(ctx.device, ctx.settings.branch_strategy)
    info = {
        "strategy": strategy,
        "device": str(ctx.device),
        "branches": len(branches),
        "steps": end - split,
    }

    if all(any(c.step == end for c in ctx.client.list_checkpoints(b.id)) for b in branches):
        return JobOutcome(info={**info, "reused_endpoints": True})

    task = task_of(ctx)
    data = load_data(ctx, task)
    trunk = fetch_checkpoint(ctx, ctx.trunk_run, split)
    p = len(branches)
    params = repeat(trunk.params, p)  # (P, ...): every branch starts at W_k
    opt_state = optim.branch_state(
        spec.optimizer, trunk.opt_state, params, spec.branches.optimizer_state
    )
    sink = MetricSink(ctx.client)
    callbacks = [
        *training_callbacks(ctx, task, data, branches, sink),
        CheckpointAt({end}, checkpoint_uploader(ctx, branches)),
    ]
    try:
        state = train(
            model=template(task.model),
            params=params,
            buffers=repeat(trunk.buffers, p),
            opt_state=opt_state,
            optimizer=spec.optimizer,
            data=data.train,
            data_seeds=[b.data_seed for b in branches],
            start_step=split,
            end_step=end,
            batch_size=spec.batch_size,
            callbacks=callbacks,
            strategy=strategy,
            loss_fn=task.loss,
        )
    except TrainingDiverged as exc:
        raise JobError(f"branches of trunk {job.trunk} at split step {split}: {exc}") from exc
    if state.stopped:
        raise LeaseLost(state.stop_reason or "stopped")
    sink.flush()
    return JobOutcome(info=info)
