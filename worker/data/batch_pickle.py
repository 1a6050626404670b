"""Read CIFAR's python-pickle batch files without numpy and without running arbitrary pickles.

The standard CIFAR-10 files are pickles of dicts holding numpy arrays. Plain `pickle.load` would
need numpy (the benchmark hosts have torch alone, DESIGN §10) and would execute whatever a file in
a user-supplied data directory asks for. This unpickler allows only the handful of numpy globals an
array pickle names, rebuilds each array from its raw bytes as a torch tensor, and refuses the rest.
"""

from __future__ import annotations

import pickle
import struct
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

# numpy dtype codes -> (torch dtype, struct format of one item)
_DTYPES: dict[str, tuple[torch.dtype, str]] = {
    "u1": (torch.uint8, "B"),
    "i1": (torch.int8, "b"),
    "i2": (torch.int16, "h"),
    "i4": (torch.int32, "i"),
    "i8": (torch.int64, "q"),
    "f4": (torch.float32, "f"),
    "f8": (torch.float64, "d"),
    "b1": (torch.bool, "?"),
}


class _Dtype:
    """Stands in for numpy.dtype: remembers the type code (e.g. 'u1') and the byte order."""

    def __init__(self, code: str, align: bool = False, copy: bool = True) -> None:
        self.code = code.lstrip("<>|=")
        self.order = "|"

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        self.order = state[1]  # (version, byteorder, subarray, names, fields, ...)

    def torch_dtype(self) -> torch.dtype:
        if self.code not in _DTYPES:
            raise pickle.UnpicklingError(f"unsupported array dtype {self.code!r}")
        if self.order == ">":
            raise pickle.UnpicklingError("big-endian arrays are not supported")
        return _DTYPES[self.code][0]


class _Array:
    """Stands in for numpy.ndarray while unpickling; `.tensor` holds the rebuilt array."""

    def __init__(self) -> None:
        self.tensor: Tensor | None = None

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        if len(state) == 5:  # (version, shape, dtype, is_fortran, raw bytes)
            state = state[1:]
        shape, dtype, fortran, raw = state
        if not isinstance(dtype, _Dtype) or not isinstance(raw, (bytes, bytearray)):
            raise pickle.UnpicklingError("array pickle holds objects, not raw data")
        self.tensor = _from_bytes(raw, dtype, tuple(shape), fortran)


def _from_bytes(
    raw: bytes | bytearray, dtype: _Dtype, shape: tuple[int, ...], fortran: bool
) -> Tensor:
    flat = torch.frombuffer(bytearray(raw), dtype=dtype.torch_dtype())
    if fortran:  # column-major: fill the reversed shape, then reverse the axes
        transposed = flat.reshape(tuple(reversed(shape)))  # (d_k, ..., d_1)
        return transposed.permute(*reversed(range(len(shape)))).contiguous()  # (d_1, ..., d_k)
    return flat.reshape(shape)  # (d_1, ..., d_k), e.g. (N, 3072) for b"data"


def _reconstruct(cls: Any, shape: Any, code: Any) -> _Array:
    return _Array()


def _frombuffer(buf: Any, dtype: _Dtype, shape: tuple[int, ...], order: str) -> _Array:
    array = _Array()
    array.tensor = _from_bytes(bytes(buf), dtype, tuple(shape), order == "F")
    return array


def _scalar(dtype: _Dtype, raw: bytes) -> int | float | bool:
    fmt = _DTYPES.get(dtype.code, (None, None))[1]
    if fmt is None:
        raise pickle.UnpicklingError(f"unsupported scalar dtype {dtype.code!r}")
    value: int | float | bool = struct.unpack("<" + fmt, raw)[0]
    return value


def _latin1_encode(text: str, encoding: str = "latin1") -> bytes:
    """`_codecs.encode`, which protocol-2 pickles written by Python 3 use for bytes objects."""
    return text.encode(encoding)


_ALLOWED: dict[tuple[str, str], Any] = {
    ("_codecs", "encode"): _latin1_encode,
}
for _module in ("numpy.core.multiarray", "numpy._core.multiarray"):
    _ALLOWED[(_module, "_reconstruct")] = _reconstruct
    _ALLOWED[(_module, "scalar")] = _scalar
for _module in ("numpy.core.numeric", "numpy._core.numeric"):
    _ALLOWED[(_module, "_frombuffer")] = _frombuffer
for _module in ("numpy", "numpy.core.multiarray", "numpy._core.multiarray"):
    _ALLOWED[(_module, "ndarray")] = _Array
    _ALLOWED[(_module, "dtype")] = _Dtype


class _BatchUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"refusing to load {module}.{name}: not part of a CIFAR batch file"
            ) from None


def _to_plain(value: Any) -> Any:
    if isinstance(value, _Array):
        return value.tensor
    if isinstance(value, dict):
        return {k: _to_plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_plain(v) for v in value]
    return value


def load_batch(path: Path) -> dict[Any, Any]:
    """A CIFAR batch file's dict, with bytes keys (b"data", b"labels", ...) as `encoding="bytes"`
    gives them, and every numpy array replaced by a torch tensor of the same dtype and shape."""
    with path.open("rb") as f:
        try:
            loaded = _BatchUnpickler(f, encoding="bytes").load()
        except (pickle.UnpicklingError, EOFError, ValueError, struct.error) as exc:
            raise ValueError(f"{path} is not a readable CIFAR batch file: {exc}") from exc
    if not isinstance(loaded, dict):
        raise ValueError(f"{path} holds a {type(loaded).__name__}, not a CIFAR batch dict")
    plain: dict[Any, Any] = _to_plain(loaded)
    return plain
