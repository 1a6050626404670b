"""Regenerate `worker/data/shipped/`, the small real CIFAR-10 subset shipped for demo and tests.

    .venv/bin/python -m worker.data.make_shipped_subset [--source DIR] [--train 5000] [--test 1000]

Takes the first N images of the source's `data_batch_1` and `test_batch` (the source was shuffled
with seed 0 when it was made, so any prefix is close to class-balanced) and writes them in the same
python-pickle layout, same dict keys, so any CIFAR-10 reader (ours, torchvision's) accepts them.
Needs numpy (the standard layout stores numpy arrays); the files are written with pickle protocol 4,
so the same source and sizes give byte-identical files.
"""

from __future__ import annotations

import argparse
import pickle
from pathlib import Path
from typing import Any

DEFAULT_SOURCE = Path("/work/shared/data/cifar-10-batches-py")
SHIPPED = Path(__file__).resolve().parent / "shipped" / "cifar-10-batches-py"


def _read(path: Path) -> dict[bytes, Any]:
    with path.open("rb") as f:
        batch: dict[bytes, Any] = pickle.load(f, encoding="bytes")  # a trusted source file
    return batch


def _write(path: Path, batch: dict[bytes, Any]) -> None:
    with path.open("wb") as f:
        pickle.dump(batch, f, protocol=4)


def _head(batch: dict[bytes, Any], n: int, name: str) -> dict[bytes, Any]:
    have = len(batch[b"labels"])
    if n > have:
        raise SystemExit(f"{name} holds {have} images, cannot take {n}")
    return {
        b"batch_label": batch[b"batch_label"],
        b"labels": list(batch[b"labels"][:n]),
        b"data": batch[b"data"][:n].copy(),  # (n, 3072) uint8, channel-major
        b"filenames": list(batch[b"filenames"][:n]),
    }


def make_subset(source: Path, dest: Path, train: int, test: int) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    _write(dest / "data_batch_1", _head(_read(source / "data_batch_1"), train, "data_batch_1"))
    _write(dest / "test_batch", _head(_read(source / "test_batch"), test, "test_batch"))
    meta = _read(source / "batches.meta")
    meta[b"num_cases_per_batch"] = train  # the one batch file now holds `train` cases
    _write(dest / "batches.meta", meta)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--dest", type=Path, default=SHIPPED)
    parser.add_argument("--train", type=int, default=5000)
    parser.add_argument("--test", type=int, default=1000)
    args = parser.parse_args()
    make_subset(args.source, args.dest, args.train, args.test)
    print(f"wrote {args.train} training and {args.test} test images to {args.dest}")


if __name__ == "__main__":
    main()
