"""Loss and accuracy of M parameter sets over a whole dataset, all M in one vmapped forward.

Used for the training curves (the P members of a run) and for the CMC analysis (the endpoints,
the J convex samples and their J random twins, DESIGN §6). Examples are visited in chunks and
members in chunks, so activation memory stays at about chunk_members x chunk_examples examples
whatever M and N are; sums accumulate in float64 so the mean does not depend on the chunking.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import torch
from torch import Tensor, nn
from torch.func import functional_call, vmap

from worker.data.dataset import TensorDataset
from worker.training.losses import LossFn, cross_entropy
from worker.training.params import Params, members, unflatten

FlatEvaluator = Callable[[Tensor], tuple[Tensor, Tensor]]
"""W (M, D) -> (mean loss (M,), accuracy (M,)), the evaluator the analyses take."""

DEFAULT_CHUNK_EXAMPLES = 1000


def default_chunk_members(device: torch.device | str) -> int:
    """Members per vmapped forward when the caller does not say: 16 on CUDA, 1 on the CPU.

    benchmarks/bench_branches.py on 2 CPU cores: evaluating J = 32 LeNet-5 points on 1,000 images
    16 at a time took 1.6-2.1x as long as one at a time (grouped convolutions are slow on the
    CPU). On a GPU batching is the point (DESIGN §6); 16 keeps activations near 16 x 1,000
    examples.
    """
    return 16 if torch.device(device).type == "cuda" else 1


@torch.inference_mode()
def evaluate(
    *,
    model: nn.Module,
    params: Mapping[str, Tensor],
    buffers: Mapping[str, Tensor],
    data: TensorDataset,
    chunk_examples: int = DEFAULT_CHUNK_EXAMPLES,
    chunk_members: int | None = None,
    loss_fn: LossFn = cross_entropy,
) -> tuple[Tensor, Tensor]:
    """Mean loss (M,) and accuracy (M,) over all of `data` for stacked params/buffers (M, ...).

    Results are float64 on data's device. `model` is a functional_call template;
    chunk_members None means `default_chunk_members(data.device)`.
    """
    if chunk_members is None:
        chunk_members = default_chunk_members(data.device)
    if chunk_examples < 1 or chunk_members < 1:
        raise ValueError("chunk_examples and chunk_members must be >= 1")
    m = members(params)
    n = len(data)

    def forward(pm: Params, bm: Params, x: Tensor) -> Tensor:
        return functional_call(model, (pm, bm), (x,))

    # The chunk of examples is shared by every member: in_dims None, no copy per member.
    batched = vmap(forward, in_dims=(0, 0, None))
    loss_sum = torch.zeros(m, dtype=torch.float64, device=data.device)  # (M,)
    correct = torch.zeros(m, dtype=torch.int64, device=data.device)  # (M,)
    for lo in range(0, m, chunk_members):
        hi = min(lo + chunk_members, m)
        pm = {k: v[lo:hi] for k, v in params.items()}  # (Mc, ...)
        bm = {k: v[lo:hi] for k, v in buffers.items()}  # (Mc, ...)
        for start in range(0, n, chunk_examples):
            x = data.x[start : start + chunk_examples]  # (E, C, H, W)
            y = data.y[start : start + chunk_examples]  # (E,)
            logits = batched(pm, bm, x)  # (Mc, E, K)
            mc, e = logits.shape[:2]
            flat_logits = logits.reshape(mc * e, *logits.shape[2:])  # (Mc*E, K)
            per_example = loss_fn(flat_logits, y.repeat(mc)).reshape(mc, e)  # (Mc, E)
            loss_sum[lo:hi] += per_example.sum(dim=1, dtype=torch.float64)
            correct[lo:hi] += (logits.argmax(dim=-1) == y).sum(dim=1)
    return loss_sum / n, correct.to(torch.float64) / n


def make_flat_evaluator(
    *,
    model: nn.Module,
    like: Mapping[str, Tensor],
    data: TensorDataset,
    buffers: Mapping[str, Tensor] | None = None,
    chunk_examples: int = DEFAULT_CHUNK_EXAMPLES,
    chunk_members: int | None = None,
    loss_fn: LossFn = cross_entropy,
) -> FlatEvaluator:
    """An evaluator of flat parameter vectors W (M, D) (`params.flatten`'s layout) for the analyses.

    like: one member's parameters (names and shapes, no leading axis). buffers: one member's
    buffers, shared by all M points (LeNet-5 has none; how BatchNorm statistics of a convex
    combination are formed is the caller's choice, DESIGN §4).
    """
    shared = dict(buffers or {})

    def evaluate_flat(flat: Tensor) -> tuple[Tensor, Tensor]:
        m = flat.shape[0]
        stacked = unflatten(flat.to(device=data.device, dtype=_dtype(like)), like)  # (M, ...)
        expanded = {k: v.unsqueeze(0).expand(m, *v.shape) for k, v in shared.items()}  # (M, ...)
        return evaluate(
            model=model,
            params=stacked,
            buffers=expanded,
            data=data,
            chunk_examples=chunk_examples,
            chunk_members=chunk_members,
            loss_fn=loss_fn,
        )

    return evaluate_flat


def _dtype(like: Mapping[str, Tensor]) -> torch.dtype:
    return next(iter(like.values())).dtype
