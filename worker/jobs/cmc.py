"""Measure one hull's convex mode connectivity (Algorithm 1) and its distances (DESIGN §4).

Reads the P endpoints and the split point from the server, recomputes the init from its seed,
and evaluates the J convex samples and their random twins on the training loss over the whole
training set (or the spec's `data.train_size` subset). The samples are seeded by the hull, so a
re-run posts the same numbers.
"""

from __future__ import annotations

import torch

from client.contract import CMCResult, Endpoint, HullSample
from client.contract.seeds import hull_sample_seed
from worker.analysis.cmc import HullSampling, sample_convex_hull
from worker.analysis.distances import distances_to, pairwise_distances
from worker.jobs.common import fetch_checkpoint, load_data, task_of
from worker.jobs.context import JobContext, JobError, JobOutcome
from worker.training.evaluate import make_flat_evaluator
from worker.training.params import flatten, init_state, repeat, stack, template


def run_cmc(ctx: JobContext) -> JobOutcome:
    spec, job = ctx.spec, ctx.assignment.job
    if job.split_step is None or ctx.trunk_run.init_seed is None:
        raise JobError(f"cmc job {job.id} lacks its split step or the trunk's init seed")
    split, end = job.split_step, job.split_step + spec.branch_steps()
    task = task_of(ctx)
    data = load_data(ctx, task)

    endpoints = [fetch_checkpoint(ctx, run, end) for run in ctx.branch_runs]
    w = flatten(stack([e.params for e in endpoints]))  # (P, D)
    w_split = flatten(repeat(fetch_checkpoint(ctx, ctx.trunk_run, split).params, 1))[0]  # (D,)
    init_params, _ = init_state(task.model, ctx.trunk_run.init_seed, ctx.device)
    w_init = flatten(repeat(init_params, 1))[0]  # (D,)

    evaluate = make_flat_evaluator(
        model=template(task.model),
        like=endpoints[0].params,
        data=data.train,
        buffers=endpoints[0].buffers,  # LeNet-5 has none; BatchNorm tasks will decide (DESIGN §4)
        loss_fn=task.loss,
    )
    generator = torch.Generator().manual_seed(hull_sample_seed(spec.seed, job.trunk, split))
    sampling = sample_convex_hull(
        endpoints=w, evaluate=evaluate, samples=spec.analyses.cmc.samples, generator=generator
    )
    result = _to_result(
        sampling,
        pairwise=pairwise_distances(w).tolist(),
        to_split=distances_to(w, w_split).tolist(),
        to_init=distances_to(w, w_init).tolist(),
        eval_examples=len(data.train),
    )
    return JobOutcome(cmc=result, info={"device": str(ctx.device), "samples": sampling.samples})


def _to_result(
    s: HullSampling,
    *,
    pairwise: list[list[float]],
    to_split: list[float],
    to_init: list[float],
    eval_examples: int,
) -> CMCResult:
    endpoints = [
        Endpoint(branch=i, loss=loss, accuracy=acc, dist_to_split=ds, dist_to_init=di)
        for i, (loss, acc, ds, di) in enumerate(
            zip(s.endpoint_loss, s.endpoint_acc, to_split, to_init, strict=True)
        )
    ]
    samples = [
        HullSample(
            j=j,
            weights=s.weights[j],
            closest=s.closest[j],
            distance=s.distance[j],
            loss_conv=s.loss_conv[j],
            loss_end=s.loss_end[j],
            loss_rand=s.loss_rand[j],
            acc_conv=s.acc_conv[j],
            acc_end=s.acc_end[j],
            acc_rand=s.acc_rand[j],
            conv_lower=s.conv_lower[j],
            rand_lower=s.rand_lower[j],
        )
        for j in range(s.samples)
    ]
    return CMCResult(
        p_conv=s.p_conv,
        p_rand=s.p_rand,
        p_conv_std=s.p_conv_std,
        p_rand_std=s.p_rand_std,
        eval_examples=eval_examples,
        endpoints=endpoints,
        endpoint_distances=pairwise,
        samples=samples,
    )
