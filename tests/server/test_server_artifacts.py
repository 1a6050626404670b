"""The artifact store and the hand-written safetensors validator (no torch in the server)."""

from __future__ import annotations

import hashlib
import json
import struct
from pathlib import Path

import pytest

from server.artifacts import ArtifactStore, SafetensorsError, validate_safetensors
from tests.factories import make_safetensors


def raw_file(header: object, data: bytes = b"", *, length: int | None = None) -> bytes:
    encoded = json.dumps(header).encode()
    return struct.pack("<Q", len(encoded) if length is None else length) + encoded + data


def one(dtype: str, shape: list[int], offsets: list[int], data_bytes: int) -> bytes:
    """A file holding one tensor "w" with the given header entry and `data_bytes` of data."""
    return raw_file(
        {"w": {"dtype": dtype, "shape": shape, "data_offsets": offsets}}, b"\0" * data_bytes
    )


def test_valid_file_parses() -> None:
    header = validate_safetensors(make_safetensors({"w": [1, 2, 3], "b": [4]}, metadata={"a": "b"}))
    assert header["w"] == {"dtype": "F32", "shape": [3], "data_offsets": [0, 12]}
    assert header["__metadata__"] == {"a": "b"}


def test_empty_tensor_and_empty_file_are_valid() -> None:
    validate_safetensors(raw_file({"e": {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]}}))
    validate_safetensors(raw_file({}))


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "shorter"),
        (b"\x01\x00", "shorter"),
        (struct.pack("<Q", 10**9) + b"{}", "exceeds"),
        (raw_file({}, length=100), "exceeds"),
        (struct.pack("<Q", 4) + b"nope", "not a JSON object"),
        (struct.pack("<Q", 5) + b"{oops", "not valid JSON"),
        (raw_file([1, 2]), "not a JSON object"),
        (one("F99", [1], [0, 4], 4), "dtype"),
        (one("F32", [2], [0, 4], 4), "bytes"),
        (one("F32", [1], [0, 8], 4), "outside"),
        (one("F32", [1], [4, 8], 8), "tile"),
        (one("F32", [1], [0, 4], 6), "after"),
        (one("F32", [-1], [0, 0], 0), "shape"),
        (raw_file({"w": {"dtype": "F32", "shape": [1]}}, b"\0" * 4), "exactly"),
        (raw_file({"__metadata__": {"a": 1}}), "__metadata__"),
        (
            raw_file(
                {
                    "a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
                    "b": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
                },
                b"\0" * 8,
            ),
            "tile",
        ),
    ],
)
def test_malformed_files_are_refused(data: bytes, reason: str) -> None:
    with pytest.raises(SafetensorsError, match=reason):
        validate_safetensors(data)


def test_pickle_is_refused() -> None:
    import pickle

    with pytest.raises(SafetensorsError):
        validate_safetensors(pickle.dumps({"w": [1.0, 2.0]}))


def test_agrees_with_the_reference_library(tmp_path: Path) -> None:
    """Our bytes load in safetensors, and safetensors' own files pass our validator."""
    numpy = pytest.importorskip("numpy")
    st = pytest.importorskip("safetensors.numpy")
    loaded = st.load(make_safetensors({"w": [1.0, 2.0, 3.0], "b": [0.5]}))
    assert loaded["w"].tolist() == [1.0, 2.0, 3.0] and loaded["b"].tolist() == [0.5]
    theirs = st.save(
        {"x": numpy.arange(6, dtype=numpy.float32).reshape(2, 3), "y": numpy.ones(3, numpy.int64)},
        metadata={"step": "8"},
    )
    header = validate_safetensors(theirs)
    assert header["x"]["shape"] == [2, 3] and header["y"]["dtype"] == "I64"


def test_store_is_content_addressed_and_atomic(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path / "artifacts")
    data = make_safetensors()
    first = store.put(data)
    sha = hashlib.sha256(data).hexdigest()
    assert first.sha256 == sha and first.size == len(data)
    assert first.path == tmp_path / "artifacts" / sha[:2] / f"{sha}.safetensors"
    assert first.path.read_bytes() == data
    again = store.put(data)
    assert again == first
    assert [p.name for p in first.path.parent.iterdir()] == [first.path.name]  # no temp files
    assert store.open_path(sha) == first.path
    assert store.open_path("0" * 64) is None


def test_store_refuses_invalid_bytes_without_writing(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path / "artifacts")
    with pytest.raises(SafetensorsError):
        store.put(b"not a checkpoint at all")
    assert not (tmp_path / "artifacts").exists()
