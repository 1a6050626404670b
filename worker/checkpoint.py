"""Checkpoints as safetensors bytes: parameters, buffers, optimizer state, step and RNG state.

Artifacts are keyed by content hash (DESIGN §5), so the bytes must be a function of the state
alone: the metadata is fixed ({"format", "step"}), tensors are sorted by name, the header is
rewritten as canonical JSON (safetensors keeps the metadata in a Rust HashMap, whose order
changes from call to call), and nothing time- or process-dependent goes in. In particular the
RNG state stored should be derived from the run's seeds (`rng_state`), not the process's global
generator, whose state depends on whatever ran before; our loop draws no global random numbers
(the data order is a function of (data seed, step)), so a derived state is all a resumed run
needs. Never pickle.

Tensor names: "param/<name>", "buffer/<name>", "optim/<key>" (e.g. "optim/momentum/conv1.weight",
"optim/step"), "rng/<name>" (e.g. "rng/torch", "rng/data_seed").
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Mapping
from dataclasses import dataclass

import torch
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save
from torch import Tensor

from worker.training.params import Params, select

FORMAT = "lmclab-checkpoint/1"
_SECTIONS = ("param", "buffer", "optim", "rng")


class CheckpointError(ValueError):
    """The bytes are not an lmclab checkpoint (wrong format, missing fields, bad header)."""


@dataclass(frozen=True)
class Checkpoint:
    """One member's state at `step` (no leading P axis)."""

    params: Params
    buffers: Params
    opt_state: dict[str, Tensor]
    step: int
    rng: dict[str, Tensor]


def rng_state(data_seed: int, step: int) -> dict[str, Tensor]:
    """The RNG entries of a checkpoint at `step` of a run with data seed `data_seed`.

    "rng/data_seed" (the run's minibatch order, int64) and "rng/torch", the state of a CPU
    generator seeded from (data_seed, step): what any randomness after `step` should draw from,
    identical whenever the same run is re-run or resumed.
    """
    if not 0 <= data_seed < 2**63:
        raise ValueError(f"data_seed must lie in [0, 2**63), got {data_seed}")
    digest = hashlib.sha256(f"lmclab-rng/{data_seed}/{step}".encode()).digest()
    generator = torch.Generator(device="cpu").manual_seed(int.from_bytes(digest[:8], "little"))
    return {
        "data_seed": torch.tensor(data_seed, dtype=torch.int64),
        "torch": generator.get_state(),
    }


def save_checkpoint(
    *,
    params: Mapping[str, Tensor],
    buffers: Mapping[str, Tensor],
    opt_state: Mapping[str, Tensor],
    step: int,
    rng: Mapping[str, Tensor] | None = None,
) -> bytes:
    """One member's state -> safetensors bytes; identical state gives identical bytes."""
    if step < 0:
        raise ValueError(f"step must be >= 0, got {step}")
    tensors: dict[str, Tensor] = {}
    for section, part in zip(_SECTIONS, (params, buffers, opt_state, rng or {}), strict=True):
        for name, tensor in part.items():
            # safetensors refuses shared memory and wants CPU-contiguous tensors (DESIGN §10).
            tensors[f"{section}/{name}"] = tensor.detach().to("cpu").clone().contiguous()
    ordered = {k: tensors[k] for k in sorted(tensors)}
    return _canonical(st_save(ordered, metadata={"format": FORMAT, "step": str(step)}))


def _canonical(data: bytes) -> bytes:
    """The same safetensors file with its JSON header's keys sorted, compact, space-padded to a
    multiple of 8 (the format's alignment); the tensor data section is kept byte for byte."""
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + length])
    text = json.dumps(header, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data[8 + length :]


def save_member(
    *,
    params: Mapping[str, Tensor],
    buffers: Mapping[str, Tensor],
    opt_state: Mapping[str, Tensor],
    member: int,
    step: int,
    rng: Mapping[str, Tensor] | None = None,
) -> bytes:
    """Member `member` of stacked (P, ...) state -> checkpoint bytes (slices cloned first)."""
    return save_checkpoint(
        params=select(params, member),
        buffers=select(buffers, member),
        opt_state=select(opt_state, member),
        step=step,
        rng=rng,
    )


def read_metadata(data: bytes) -> dict[str, str]:
    """The safetensors header's metadata, without loading any tensor."""
    if len(data) < 8:
        raise CheckpointError("not a safetensors file: shorter than its header length")
    (length,) = struct.unpack("<Q", data[:8])
    if length > len(data) - 8:
        raise CheckpointError("not a safetensors file: header longer than the file")
    try:
        header = json.loads(data[8 : 8 + length])
    except ValueError as exc:
        raise CheckpointError(f"not a safetensors file: bad header ({exc})") from exc
    metadata = header.get("__metadata__") or {}
    if not isinstance(metadata, dict):
        raise CheckpointError("not a safetensors file: metadata is not a mapping")
    return {str(k): str(v) for k, v in metadata.items()}


def load_checkpoint(data: bytes, device: torch.device | str = "cpu") -> Checkpoint:
    """Checkpoint bytes -> a Checkpoint with its tensors on `device`."""
    metadata = read_metadata(data)
    if metadata.get("format") != FORMAT:
        raise CheckpointError(f"not an {FORMAT} checkpoint (format {metadata.get('format')!r})")
    try:
        step = int(metadata["step"])
    except (KeyError, ValueError) as exc:
        raise CheckpointError("checkpoint metadata lacks an integer step") from exc
    sections: dict[str, dict[str, Tensor]] = {s: {} for s in _SECTIONS}
    for key, tensor in st_load(data).items():
        section, _, name = key.partition("/")
        if section not in sections or not name:
            raise CheckpointError(f"unexpected tensor {key!r} in checkpoint")
        sections[section][name] = tensor.to(device)
    if not sections["param"]:
        raise CheckpointError("checkpoint holds no parameters")
    return Checkpoint(
        params=sections["param"],
        buffers=sections["buffer"],
        opt_state=sections["optim"],
        step=step,
        rng=sections["rng"],
    )
