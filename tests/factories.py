"""Small valid test data, built by hand: specs, safetensors bytes, CMC results."""

from __future__ import annotations

import copy
import json
import math
import struct
from collections.abc import Mapping, Sequence
from typing import Any

BASE_SPEC: dict[str, Any] = {
    "name": "test-lenet",
    "task": "lenet5-cifar10",
    "optimizer": {"name": "sgd", "lr": 0.01, "momentum": 0.0},
    "batch_size": 64,
    "trunks": 1,
    "splits": {"epochs": [0, 1]},
    "branches": {"count": 2, "epochs": 1},
    "eval_every": {"steps": 4},
    "analyses": {"cmc": {"samples": 8}},
    "data": {"train_size": 512},
    "seed": 0,
}


def _merge(target: dict[str, Any], overrides: Mapping[str, Any]) -> None:
    for key, value in overrides.items():
        head, _, rest = key.partition(".")
        if rest:
            _merge(target.setdefault(head, {}), {rest: value})
        elif isinstance(value, Mapping) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


def make_spec(**overrides: Any) -> dict[str, Any]:
    """A small valid spec (LeNet-5 on 512 CIFAR-10 images, batch 64: 8 steps an epoch; splits
    at epochs 0 and 1; 2 branches of 1 epoch; 8 CMC samples), with overrides.

    Nested dicts merge (`optimizer={"lr": 0.1}`); dotted keys set one leaf
    (`**{"optimizer.lr": 0}`).
    """
    spec = copy.deepcopy(BASE_SPEC)
    _merge(spec, overrides)
    return spec


def quick_spec(**overrides: Any) -> dict[str, Any]:
    """The shipped `quick` preset (a tiny real experiment, used end to end), with overrides."""
    import yaml

    from client.presets import preset_path

    spec: dict[str, Any] = yaml.safe_load(preset_path("quick").read_text())
    _merge(spec, overrides)
    return spec


def make_safetensors(
    tensors: Mapping[str, Sequence[float]] | None = None,
    *,
    metadata: Mapping[str, str] | None = None,
) -> bytes:
    """A safetensors file of 1-D float32 tensors, laid out as the format says (header padded
    with spaces to 8 bytes, little-endian data in header order)."""
    tensors = {"w": [1.0, 2.0, 3.0], "b": [0.5]} if tensors is None else tensors
    header: dict[str, Any] = {}
    data = b""
    for name, values in tensors.items():
        chunk = struct.pack(f"<{len(values)}f", *values)
        header[name] = {
            "dtype": "F32",
            "shape": [len(values)],
            "data_offsets": [len(data), len(data) + len(chunk)],
        }
        data += chunk
    if metadata:
        header["__metadata__"] = dict(metadata)
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    return struct.pack("<Q", len(raw)) + raw + data


def make_cmc_result(*, branches: int = 2, samples: int = 8, shift: float = 0.0) -> dict[str, Any]:
    """A consistent CMCResult as JSON: the first half of the samples lie below their endpoint."""
    rows: list[dict[str, Any]] = []
    for j in range(samples):
        weights = [1.0 / branches] * branches
        conv_lower = j < samples // 2
        rows.append(
            {
                "j": j,
                "weights": weights,
                "closest": j % branches,
                "distance": 1.0 + j / 10,
                "loss_conv": 0.5 if conv_lower else 1.5,
                "loss_end": 1.0,
                "loss_rand": 2.0,
                "acc_conv": 0.6,
                "acc_end": 0.5,
                "acc_rand": 0.3,
                "conv_lower": conv_lower,
                "rand_lower": False,
            }
        )
    p_conv = sum(1 for r in rows if r["conv_lower"]) / samples
    return {
        "p_conv": p_conv,
        "p_rand": 0.0,
        "p_conv_std": math.sqrt(p_conv * (1 - p_conv)),
        "p_rand_std": 0.0,
        "eval_examples": 512,
        "endpoints": [
            {
                "branch": i,
                "loss": 1.0 + i + shift,
                "accuracy": 0.5,
                "dist_to_split": 3.0,
                "dist_to_init": 4.0,
            }
            for i in range(branches)
        ],
        "endpoint_distances": [
            [0.0 if i == k else 2.0 + i + k for k in range(branches)] for i in range(branches)
        ],
        "samples": rows,
    }
