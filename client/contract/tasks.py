"""What the server needs to know of each registered task, without importing torch.

The worker's task registry (`worker.task_registry`) holds the models and data; this table holds
the facts the server needs to expand a spec into steps. A test keeps the two in step.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TaskInfo:
    name: str
    train_size: int
    test_size: int
    description: str


BUILTIN_TASKS: dict[str, TaskInfo] = {
    "lenet5-cifar10": TaskInfo(
        name="lenet5-cifar10",
        train_size=50_000,
        test_size=10_000,
        description="LeNet-5 (62,006 parameters) on CIFAR-10, cross-entropy loss",
    ),
}


def get_task_info(name: str) -> TaskInfo:
    """Look a task up by name; the error names the tasks that exist."""
    try:
        return BUILTIN_TASKS[name]
    except KeyError:
        known = ", ".join(sorted(BUILTIN_TASKS))
        raise ValueError(f"unknown task {name!r}; registered tasks: {known}") from None
