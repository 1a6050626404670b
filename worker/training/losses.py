"""Per-example losses: (logits (N, C), labels (N,)) -> (N,). Callers take the means they need."""

from __future__ import annotations

from collections.abc import Callable

import torch.nn.functional as F
from torch import Tensor

LossFn = Callable[[Tensor, Tensor], Tensor]


def cross_entropy(logits: Tensor, labels: Tensor) -> Tensor:
    """Per-example cross-entropy, (N, C), (N,) -> (N,)."""
    return F.cross_entropy(logits, labels, reduction="none")
