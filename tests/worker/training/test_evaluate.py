from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from worker.data.dataset import TensorDataset
from worker.models.lenet import LeNet5
from worker.models.registry import ModelFactory
from worker.training.evaluate import evaluate, make_flat_evaluator
from worker.training.params import flatten, init_state, stack


@pytest.fixture(scope="module")
def three(lenet_factory: ModelFactory) -> dict[str, torch.Tensor]:
    return stack([init_state(lenet_factory, seed)[0] for seed in range(3)])  # (3, ...)


def _by_hand(
    params: dict[str, torch.Tensor], data: TensorDataset
) -> tuple[list[float], list[float]]:
    losses, accs = [], []
    for i in range(3):
        model = LeNet5()
        model.load_state_dict({n: t[i] for n, t in params.items()})
        with torch.no_grad():
            logits = model(data.x)
        losses.append(F.cross_entropy(logits, data.y).item())
        accs.append((logits.argmax(1) == data.y).double().mean().item())
    return losses, accs


def test_evaluate_matches_a_plain_forward_per_member(
    three: dict[str, torch.Tensor], lenet_template: nn.Module, small_train: TensorDataset
) -> None:
    data = small_train.head(150)
    want_loss, want_acc = _by_hand(three, data)
    for chunk_examples, chunk_members in ((1000, 16), (64, 2), (7, 1)):
        loss, acc = evaluate(
            model=lenet_template,
            params=three,
            buffers={},
            data=data,
            chunk_examples=chunk_examples,
            chunk_members=chunk_members,
        )
        assert loss.shape == acc.shape == (3,) and loss.dtype == torch.float64
        torch.testing.assert_close(
            loss, torch.tensor(want_loss, dtype=torch.float64), rtol=1e-5, atol=1e-6
        )
        assert acc.tolist() == pytest.approx(want_acc, abs=1e-12)


def test_flat_evaluator_agrees_with_evaluate(
    three: dict[str, torch.Tensor], lenet_template: nn.Module, small_train: TensorDataset
) -> None:
    data = small_train.head(100)
    flat_eval = make_flat_evaluator(
        model=lenet_template, like={n: t[0] for n, t in three.items()}, data=data, chunk_members=2
    )
    loss, acc = flat_eval(flatten(three))  # (3, D) -> (3,), (3,)
    ref_loss, ref_acc = evaluate(model=lenet_template, params=three, buffers={}, data=data)
    torch.testing.assert_close(loss, ref_loss)
    torch.testing.assert_close(acc, ref_acc)


def test_chunk_sizes_must_be_positive(
    three: dict[str, torch.Tensor], lenet_template: nn.Module, small_train: TensorDataset
) -> None:
    with pytest.raises(ValueError, match="chunk"):
        evaluate(model=lenet_template, params=three, buffers={}, data=small_train, chunk_members=0)
