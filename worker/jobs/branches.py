"""Train the P branches of one hull together from the trunk's checkpoint at the split step.

Each branch has its own data order z_i and counts steps on from the split (global steps, so its
curve continues the trunk's); the endpoint W_T^i is the branch run's checkpoint at split + T.
Idempotent: when every endpoint is already stored (an earlier attempt died before reporting),
nothing is trained again.
"""

from __future__ import annotations

from worker.jobs.common import fetch_checkpoint, load_data, task_of, train_members
from worker.jobs.context import JobContext, JobError, JobOutcome
from worker.training import optim
from worker.training.loop import choose_strategy
from worker.training.params import repeat


def run_branches(ctx: JobContext) -> JobOutcome:
    spec, job, branches = ctx.spec, ctx.assignment.job, ctx.branch_runs
    if job.split_step is None:
        raise JobError(f"branches job {job.id} has no split step")
    split = job.split_step
    end = split + spec.branch_steps()
    info = {"device": str(ctx.device), "branches": len(branches), "steps": end - split}

    if all(any(c.step == end for c in ctx.client.list_checkpoints(b.id)) for b in branches):
        strategy = choose_strategy(ctx.device, ctx.settings.branch_strategy)
        return JobOutcome(info={**info, "strategy": strategy, "reused_endpoints": True})

    task = task_of(ctx)
    data = load_data(ctx, task)
    trunk = fetch_checkpoint(ctx, ctx.trunk_run, split)
    p = len(branches)
    params = repeat(trunk.params, p)  # (P, ...): every branch starts at W_k
    strategy = train_members(
        ctx,
        task=task,
        data=data,
        runs=branches,
        params=params,
        buffers=repeat(trunk.buffers, p),
        opt_state=optim.branch_state(
            spec.optimizer, trunk.opt_state, params, spec.branches.optimizer_state
        ),
        start_step=split,
        end_step=end,
        checkpoint_steps={end},
        what=f"branches of trunk {job.trunk} at split step {split}",
    )
    return JobOutcome(info={**info, "strategy": strategy})
