"""Models by name, like open_lth's models/registry.py: one table, one lookup with a clear error.

Factories take no arguments, so a model is fully named by its string; seeding is the caller's
business (`worker.training.params.init_state`), which keeps the factories trivial.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from worker.models.lenet import lenet5

ModelFactory = Callable[[], nn.Module]

MODELS: dict[str, ModelFactory] = {
    "lenet5": lenet5,
}


def names() -> list[str]:
    """The registered model names, sorted."""
    return sorted(MODELS)


def get(name: str) -> ModelFactory:
    """The factory registered as `name`; the error names the models that exist."""
    try:
        return MODELS[name]
    except KeyError:
        raise ValueError(
            f"unknown model {name!r}; registered models: {', '.join(names())}"
        ) from None
