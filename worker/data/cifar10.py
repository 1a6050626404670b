"""CIFAR-10 as normalized tensors on the training device, read from the standard pickle layout.

`<data_dir>/cifar-10-batches-py/{data_batch_1..5, test_batch}`: the layout of the official
python tarball, of torchvision's downloader, and of the subset shipped in `worker/data/shipped/`
(the default when no directory is given). A worker process loads each (dir, sizes, device) once.
"""

from __future__ import annotations

import threading
from pathlib import Path

import torch
from torch import Tensor

from worker.data.batch_pickle import load_batch
from worker.data.dataset import DataSplits, TensorDataset

SHIPPED_DIR = Path(__file__).resolve().parent / "shipped"
FOLDER = "cifar-10-batches-py"
TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_FILE = "test_batch"

# The standard per-channel statistics of the 50,000 CIFAR-10 training images (pixels in [0, 1]).
MEAN = (0.4914, 0.4822, 0.4465)
STD = (0.2470, 0.2435, 0.2616)

_CacheKey = tuple[str, int | None, int | None, str]
_CACHE: dict[_CacheKey, DataSplits] = {}
_CACHE_LOCK = threading.Lock()


class DataMissing(FileNotFoundError):
    """The CIFAR-10 files are not where we looked (the message says where and what to set)."""


def resolve_dir(data_dir: str | Path | None) -> Path:
    """The directory that holds `cifar-10-batches-py/`: the given one, or the shipped subset."""
    return SHIPPED_DIR if data_dir is None else Path(data_dir).expanduser().resolve()


def load_cifar10(
    data_dir: str | Path | None = None,
    *,
    train_size: int | None = None,
    test_size: int | None = None,
    device: torch.device | str = "cpu",
    download: bool = False,
) -> DataSplits:
    """The first `train_size` training and `test_size` test images (all when None) on `device`.

    x: float32 (N, 3, 32, 32), normalized with MEAN/STD; y: int64 (N,). Cached per process by
    (dir, sizes, device): the returned tensors are shared, so treat them as read-only.
    `download=True` fills a missing directory with torchvision's downloader (the full CIFAR-10);
    it never writes into the shipped subset.
    """
    root = resolve_dir(data_dir)
    key: _CacheKey = (str(root), train_size, test_size, str(torch.device(device)))
    with _CACHE_LOCK:
        if key not in _CACHE:
            _ensure_files(root, download=download and data_dir is not None)
            folder = root / FOLDER
            x_train, y_train = _read_split(folder, _train_files(folder), train_size, "training")
            x_test, y_test = _read_split(folder, [folder / TEST_FILE], test_size, "test")
            _CACHE[key] = DataSplits(
                train=TensorDataset(_normalize(x_train, device), y_train.to(device)),
                test=TensorDataset(_normalize(x_test, device), y_test.to(device)),
            )
        return _CACHE[key]


def clear_cache() -> None:
    """Forget every loaded dataset (tests; a worker that wants its memory back)."""
    with _CACHE_LOCK:
        _CACHE.clear()


def _train_files(folder: Path) -> list[Path]:
    return [folder / name for name in TRAIN_FILES if (folder / name).is_file()]


def _ensure_files(root: Path, *, download: bool) -> None:
    folder = root / FOLDER
    if _train_files(folder) and (folder / TEST_FILE).is_file():
        return
    if download:
        _download(root)
        if _train_files(folder) and (folder / TEST_FILE).is_file():
            return
    raise DataMissing(
        f"no CIFAR-10 found: looked for {folder}/data_batch_1..5 and {folder}/{TEST_FILE}. "
        "Set LMCLAB_DATA_DIR to the directory that holds cifar-10-batches-py/, or set "
        "LMCLAB_DOWNLOAD=1 to let torchvision download CIFAR-10 there."
    )


def _download(root: Path) -> None:
    """torchvision's downloader writes the official tarball's cifar-10-batches-py/ under root."""
    from torchvision.datasets import CIFAR10  # lazily: only this path needs torchvision

    root.mkdir(parents=True, exist_ok=True)
    CIFAR10(root=str(root), train=True, download=True)
    CIFAR10(root=str(root), train=False, download=True)


def _read_split(
    folder: Path, files: list[Path], size: int | None, what: str
) -> tuple[Tensor, Tensor]:
    """Read batch files in order until `size` images are in hand (all of them when None)."""
    if size is not None and size < 1:
        raise ValueError(f"{what} size must be >= 1, got {size}")
    xs: list[Tensor] = []
    ys: list[Tensor] = []
    have = 0
    for path in files:
        if size is not None and have >= size:
            break
        batch = load_batch(path)
        data = batch[b"data"]
        labels = torch.as_tensor(batch[b"labels"], dtype=torch.int64)
        if not isinstance(data, Tensor) or data.dtype != torch.uint8 or data.shape[1:] != (3072,):
            raise ValueError(f"{path}: b'data' must be uint8 N x 3072")
        if labels.shape != (data.shape[0],):
            raise ValueError(f"{path}: {data.shape[0]} images but {labels.numel()} labels")
        xs.append(data)
        ys.append(labels)
        have += data.shape[0]
    if size is not None and have < size:
        names = ", ".join(p.name for p in files)
        raise ValueError(
            f"{folder} holds {have} {what} images ({names}), fewer than the {size} asked for: "
            f"ask for at most {have} (the spec's data sizes), or set LMCLAB_DATA_DIR to the full "
            "CIFAR-10"
        )
    x = torch.cat(xs)[:size]  # (N, 3072) uint8
    y = torch.cat(ys)[:size]  # (N,)
    return x, y


def _normalize(raw: Tensor, device: torch.device | str) -> Tensor:
    """uint8 (N, 3072) channel-major -> float32 (N, 3, 32, 32), per-channel standardized."""
    x = raw.to(device).reshape(-1, 3, 32, 32).to(torch.float32).div_(255.0)  # (N, 3, 32, 32)
    mean = torch.tensor(MEAN, device=x.device).reshape(1, 3, 1, 1)  # (1, 3, 1, 1)
    std = torch.tensor(STD, device=x.device).reshape(1, 3, 1, 1)  # (1, 3, 1, 1)
    return x.sub_(mean).div_(std)
