"""The content-addressed artifact store: safetensors files named by their sha256.

Checkpoints are keyed by content so a re-run that writes the same bytes stores nothing new
(idempotent tasks, DESIGN §5). Files are validated by parsing the safetensors header by hand
(8-byte little-endian length, then a JSON header): the server never imports torch or safetensors,
and never accepts pickles.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import struct
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Bytes per element of each safetensors dtype.
DTYPE_SIZES: dict[str, int] = {
    "BOOL": 1,
    "U8": 1,
    "I8": 1,
    "F8_E5M2": 1,
    "F8_E4M3": 1,
    "I16": 2,
    "U16": 2,
    "F16": 2,
    "BF16": 2,
    "I32": 4,
    "U32": 4,
    "F32": 4,
    "I64": 8,
    "U64": 8,
    "F64": 8,
}
MAX_HEADER_BYTES = 100_000_000  # the limit the safetensors library itself enforces


class SafetensorsError(ValueError):
    """The bytes are not a well-formed safetensors file."""


def _check_tensor(name: str, entry: Any, buffer_size: int) -> tuple[int, int]:
    if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
        raise SafetensorsError(f"tensor {name!r}: needs exactly dtype, shape and data_offsets")
    dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
    if dtype not in DTYPE_SIZES:
        raise SafetensorsError(f"tensor {name!r}: unknown dtype {dtype!r}")
    if not isinstance(shape, list) or not all(
        isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape
    ):
        raise SafetensorsError(f"tensor {name!r}: shape must be a list of integers >= 0")
    if (
        not isinstance(offsets, list)
        or len(offsets) != 2
        or not all(isinstance(o, int) and not isinstance(o, bool) for o in offsets)
    ):
        raise SafetensorsError(f"tensor {name!r}: data_offsets must be [begin, end]")
    begin, end = offsets
    if not 0 <= begin <= end <= buffer_size:
        raise SafetensorsError(f"tensor {name!r}: data_offsets {offsets} outside the data")
    if end - begin != math.prod(shape) * DTYPE_SIZES[dtype]:
        raise SafetensorsError(f"tensor {name!r}: {end - begin} bytes for shape {shape} {dtype}")
    return begin, end


def validate_safetensors(data: bytes) -> dict[str, Any]:
    """Check `data` is a safetensors file as the format defines it; return its parsed header.

    Checks the header length, that the header is a JSON object of tensors with known dtypes,
    that each tensor's byte size matches its shape, and that the tensors tile the data buffer
    exactly (no gaps, no overlaps, nothing trailing), like the reference implementation.
    """
    if len(data) < 8:
        raise SafetensorsError("shorter than the 8-byte header length")
    (header_size,) = struct.unpack("<Q", data[:8])
    if header_size > MAX_HEADER_BYTES or 8 + header_size > len(data):
        raise SafetensorsError(f"header length {header_size} exceeds the file")
    raw = data[8 : 8 + header_size]
    if not raw.startswith(b"{"):
        raise SafetensorsError("header is not a JSON object")
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SafetensorsError(f"header is not valid JSON: {error}") from None
    if not isinstance(header, dict):
        raise SafetensorsError("header is not a JSON object")
    metadata = header.get("__metadata__", {})
    if not isinstance(metadata, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()
    ):
        raise SafetensorsError("__metadata__ must map strings to strings")
    buffer_size = len(data) - 8 - header_size
    spans = sorted(
        _check_tensor(name, entry, buffer_size)
        for name, entry in header.items()
        if name != "__metadata__"
    )
    position = 0
    for begin, end in spans:
        if begin != position:
            raise SafetensorsError("tensor data must tile the buffer without gaps or overlaps")
        position = end
    if position != buffer_size:
        raise SafetensorsError(f"{buffer_size - position} bytes after the last tensor")
    return header


@dataclass(frozen=True)
class StoredArtifact:
    sha256: str
    size: int
    path: Path


class ArtifactStore:
    """Files at `<root>/<sha[:2]>/<sha>.safetensors`, written atomically (temp file + rename)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, sha256: str) -> Path:
        return self.root / sha256[:2] / f"{sha256}.safetensors"

    def put(self, data: bytes) -> StoredArtifact:
        """Validate and store `data`; storing the same bytes again is a no-op."""
        validate_safetensors(data)
        sha256 = hashlib.sha256(data).hexdigest()
        path = self.path_for(sha256)
        if not (path.is_file() and path.stat().st_size == len(data)):
            path.parent.mkdir(parents=True, exist_ok=True)
            temp = path.parent / f".{sha256}.{uuid.uuid4().hex}.tmp"
            try:
                with open(temp, "wb") as file:
                    file.write(data)
                    file.flush()
                    os.fsync(file.fileno())
                os.replace(temp, path)  # atomic: readers see the old file or the whole new one
            finally:
                temp.unlink(missing_ok=True)
        return StoredArtifact(sha256=sha256, size=len(data), path=path)

    def open_path(self, sha256: str) -> Path | None:
        """The file of `sha256`, or None when it is missing from disk."""
        path = self.path_for(sha256)
        return path if path.is_file() else None
