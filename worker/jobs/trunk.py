"""Train trunk r from its init to the last split point, checkpointing at every split step.

Idempotent and resumable: a re-run starts from the newest checkpoint an earlier attempt left
(the data order is a function of (seed, step), so the result is the same as uninterrupted).
"""

from __future__ import annotations

from worker.jobs.common import fetch_checkpoint, load_data, task_of, train_members
from worker.jobs.context import JobContext, JobError, JobOutcome
from worker.training import optim
from worker.training.params import init_state, repeat


def run_trunk(ctx: JobContext) -> JobOutcome:
    spec, run = ctx.spec, ctx.trunk_run
    if run.init_seed is None:
        raise JobError(f"trunk run {run.id} has no init seed")
    task = task_of(ctx)
    data = load_data(ctx, task)
    end = spec.trunk_steps()

    done = [c.step for c in ctx.client.list_checkpoints(run.id) if c.step <= end]
    if done:
        start = max(done)
        ckpt = fetch_checkpoint(ctx, run, start)
        params, buffers, opt_state = ckpt.params, ckpt.buffers, ckpt.opt_state
    else:
        start = 0
        params, buffers = init_state(task.model, run.init_seed, ctx.device)
        opt_state = optim.init_state(spec.optimizer, params, stacked=False)

    strategy = train_members(
        ctx,
        task=task,
        data=data,
        runs=[run],
        params=repeat(params, 1),  # (1, ...): a trunk is one member
        buffers=repeat(buffers, 1),
        opt_state=repeat(opt_state, 1),
        start_step=start,
        end_step=end,
        checkpoint_steps=spec.split_steps(),
        what=f"trunk {run.trunk}",
    )
    return JobOutcome(
        info={
            "strategy": strategy,
            "device": str(ctx.device),
            "resumed_from": start,
            "steps": end - start,
        }
    )
