"""Process-wide torch settings of a worker: which device, how many CPU threads."""

from __future__ import annotations

import torch


def resolve_device(requested: str) -> torch.device:
    """`auto` takes the GPU when there is one; an explicit device that is missing is an error."""
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(requested)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"LMCLAB_DEVICE={requested} but torch sees no CUDA device")
    return device


def configure_threads(threads: int | None) -> None:
    if threads:
        torch.set_num_threads(threads)
