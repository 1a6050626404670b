"""Batched vs one-at-a-time: P branches' training, and J hull samples' evaluation, side by side.

    PYTHONPATH=. python benchmarks/bench_branches.py [--device cpu|cuda] [--branches 4] [--steps 50]

Needs torch alone and the CIFAR-10 subset shipped in worker/data/shipped (DESIGN §10: runs from
source on a host with an older torch, no install). Both variants run in the same process on the
same data; each is warmed up, then the two are timed alternately `--repeats` times (so a change
in the host's load hits both alike), and the medians are reported with the ratio
batched / one-at-a-time (< 1: batched is faster). The result decides `choose_strategy`'s
CPU rule in worker/training/loop.py.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from worker.analysis.cmc import dirichlet_weights
from worker.data.cifar10 import load_cifar10
from worker.models import registry
from worker.training import optim
from worker.training.evaluate import make_flat_evaluator
from worker.training.loop import Strategy, TrainState, choose_strategy, train
from worker.training.params import flatten, init_state, stack, template


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def median_times(
    a: Callable[[], object], b: Callable[[], object], device: torch.device, repeats: int
) -> tuple[float, float]:
    """Warm each up once, then time them alternately; the median wall time of each."""
    times: tuple[list[float], list[float]] = ([], [])
    for fn in (a, b):
        fn()
    _sync(device)
    for _ in range(repeats):
        for fn, out in ((a, times[0]), (b, times[1])):
            start = time.perf_counter()
            fn()
            _sync(device)
            out.append(time.perf_counter() - start)
    return statistics.median(times[0]), statistics.median(times[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--branches", type=int, default=4, help="P")
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--samples", type=int, default=32, help="J hull points to evaluate")
    parser.add_argument("--eval-examples", type=int, default=1000)
    parser.add_argument("--chunk-members", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)

    print(
        f"torch {torch.__version__}, python {platform.python_version()}, device {device}, "
        f"{torch.get_num_threads()} CPU threads"
    )
    data = load_cifar10(train_size=5000, test_size=1000, device=device).train
    factory = registry.get("lenet5")
    model = template(factory)
    config = optim.Optim(name="sgd", lr=0.01, momentum=0.9)
    p = args.branches
    members = [init_state(factory, seed, device) for seed in range(p)]
    params = stack([m[0] for m in members])  # (P, ...)
    buffers = stack([m[1] for m in members]) if members[0][1] else {}
    state0 = optim.init_state(config, params, stacked=True)
    seeds = list(range(100, 100 + p))

    def run(strategy: Strategy) -> Callable[[], TrainState]:
        def go() -> TrainState:
            return train(
                model=model,
                params=params,
                buffers=buffers,
                opt_state=state0,
                optimizer=config,
                data=data,
                data_seeds=seeds,
                start_step=0,
                end_step=args.steps,
                batch_size=args.batch_size,
                strategy=strategy,
            )

        return go

    t_batched, t_seq = median_times(run("batched"), run("sequential"), device, args.repeats)
    a = run("batched")()
    b = run("sequential")()
    diff = (flatten(a.params) - flatten(b.params)).abs().max().item()
    print(
        f"\ntraining  P={p} steps={args.steps} batch={args.batch_size}\n"
        f"  batched     {t_batched:8.3f} s  ({1000 * t_batched / args.steps:7.2f} ms/step)\n"
        f"  sequential  {t_seq:8.3f} s  ({1000 * t_seq / args.steps:7.2f} ms/step)\n"
        f"  ratio batched/sequential = {t_batched / t_seq:.3f}  "
        f"(speed-up {t_seq / t_batched:.2f}x); max |param diff| after {args.steps} steps "
        f"= {diff:.2e}"
    )

    evaluator = make_flat_evaluator(
        model=model,
        like={k: v[0] for k, v in params.items()},
        data=data.head(args.eval_examples),
        chunk_members=args.chunk_members,
    )
    w = flatten(params)  # (P, D)
    j = args.samples
    weights = dirichlet_weights(j, p, torch.Generator().manual_seed(0))  # (J, P)
    points = (weights.to(device=device, dtype=w.dtype) @ w).contiguous()  # (J, D)

    def all_at_once() -> object:
        return evaluator(points)

    def one_at_a_time() -> object:
        return [evaluator(points[i : i + 1]) for i in range(j)]

    t_all, t_one = median_times(all_at_once, one_at_a_time, device, args.repeats)
    loss_all = evaluator(points)[0]
    loss_one = torch.cat([evaluator(points[i : i + 1])[0] for i in range(j)])
    print(
        f"\nhull evaluation  J={j} points x {args.eval_examples} examples "
        f"(chunk_members={args.chunk_members})\n"
        f"  batched       {t_all:8.3f} s\n"
        f"  one at a time {t_one:8.3f} s\n"
        f"  ratio batched/one-at-a-time = {t_all / t_one:.3f}  (speed-up {t_one / t_all:.2f}x); "
        f"max |loss diff| = {(loss_all - loss_one).abs().max().item():.2e}"
    )
    print(f"\nchoose_strategy({str(device)!r}, 'auto') = {choose_strategy(device, 'auto')!r}")


if __name__ == "__main__":
    main()
