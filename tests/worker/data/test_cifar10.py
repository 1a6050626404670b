from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from worker.data import cifar10
from worker.data.batch_pickle import load_batch
from worker.data.cifar10 import MEAN, STD, DataMissing, load_cifar10
from worker.data.dataset import DataSplits, TensorDataset

SHARED = Path("/work/shared/data/cifar-10-batches-py")


def _write_batch(path: Path, labels: list[int], *, protocol: int = 4, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 256, size=(len(labels), 3072), dtype=np.uint8)
    batch = {
        b"batch_label": b"test batch",
        b"labels": labels,
        b"data": data,
        b"filenames": [f"{i}.png".encode() for i in range(len(labels))],
    }
    with path.open("wb") as f:
        pickle.dump(batch, f, protocol=protocol)
    return data


def _fake_dir(root: Path, train_batches: list[int], test: int) -> dict[str, np.ndarray]:
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    written = {}
    for i, n in enumerate(train_batches, start=1):
        written[f"data_batch_{i}"] = _write_batch(folder / f"data_batch_{i}", [i % 10] * n, seed=i)
    written["test_batch"] = _write_batch(folder / "test_batch", [7] * test, seed=99)
    return written


def _expected(raw: np.ndarray) -> torch.Tensor:
    x = torch.from_numpy(raw.copy()).reshape(-1, 3, 32, 32).float() / 255  # (N, 3, 32, 32)
    return (x - torch.tensor(MEAN).reshape(1, 3, 1, 1)) / torch.tensor(STD).reshape(1, 3, 1, 1)


def test_shipped_subset_loads(shipped: DataSplits) -> None:
    train, test = shipped.train, shipped.test
    assert (len(train), len(test)) == (5000, 1000)
    assert train.x.shape == (5000, 3, 32, 32) and test.x.shape == (1000, 3, 32, 32)
    assert train.x.dtype == torch.float32 and train.y.dtype == torch.int64
    assert train.device == torch.device("cpu")
    for split, per_class in ((train, 500), (test, 100)):
        counts = torch.bincount(split.y, minlength=10)
        assert counts.numel() == 10
        assert ((counts > 0.8 * per_class) & (counts < 1.2 * per_class)).all(), counts
    # Standardized with the CIFAR-10 statistics: close to zero mean, unit variance per channel.
    assert train.x.mean(dim=(0, 2, 3)).abs().max() < 0.05
    assert (train.x.std(dim=(0, 2, 3)) - 1).abs().max() < 0.05


def test_default_dir_is_the_shipped_subset_and_is_cached() -> None:
    first = load_cifar10(train_size=100, test_size=10)
    again = load_cifar10(None, train_size=100, test_size=10, device="cpu")
    assert first is again
    assert cifar10.resolve_dir(None) == cifar10.SHIPPED_DIR


def test_sizes_take_the_first_n(shipped: DataSplits) -> None:
    head = load_cifar10(train_size=300, test_size=20)
    assert torch.equal(head.train.x, shipped.train.x[:300])
    assert torch.equal(head.test.y, shipped.test.y[:20])


@pytest.mark.skipif(not SHARED.is_dir(), reason="the shared CIFAR-10 subset is not on this host")
def test_shipped_subset_is_the_prefix_of_the_shared_one(shipped: DataSplits) -> None:
    with (SHARED / "data_batch_1").open("rb") as f:
        source = pickle.load(f, encoding="bytes")
    assert shipped.train.y.tolist() == source[b"labels"][:5000]
    assert torch.equal(shipped.train.x, _expected(source[b"data"][:5000]))


def test_reads_every_batch_file_in_order(tmp_path: Path) -> None:
    written = _fake_dir(tmp_path, [30, 20, 10], test=5)
    splits = load_cifar10(tmp_path, device="cpu")
    assert len(splits.train) == 60 and len(splits.test) == 5
    raw = np.concatenate(
        [written["data_batch_1"], written["data_batch_2"], written["data_batch_3"]]
    )
    assert torch.equal(splits.train.x, _expected(raw))
    assert splits.train.y.tolist() == [1] * 30 + [2] * 20 + [3] * 10
    # Asking for fewer reads a prefix across the batch boundary.
    assert torch.equal(load_cifar10(tmp_path, train_size=40).train.x, _expected(raw[:40]))


def test_too_few_images_names_the_dir_and_the_counts(tmp_path: Path) -> None:
    _fake_dir(tmp_path, [30], test=5)
    with pytest.raises(ValueError, match=r"holds 30 training images.*50000") as info:
        load_cifar10(tmp_path, train_size=50_000)
    assert str(tmp_path) in str(info.value)
    with pytest.raises(ValueError, match=r"holds 5 test images"):
        load_cifar10(tmp_path, test_size=10)


def test_missing_dir_says_where_it_looked_and_what_to_set(tmp_path: Path) -> None:
    with pytest.raises(DataMissing, match=r"LMCLAB_DATA_DIR.*LMCLAB_DOWNLOAD=1") as info:
        load_cifar10(tmp_path / "nowhere")
    assert str(tmp_path / "nowhere" / "cifar-10-batches-py") in str(info.value)


def test_download_fills_a_missing_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Path] = []

    def fake_download(root: Path) -> None:  # torchvision's downloader needs the internet
        calls.append(root)
        _fake_dir(root, [12], test=3)

    monkeypatch.setattr(cifar10, "_download", fake_download)
    splits = load_cifar10(tmp_path / "fresh", download=True)
    assert calls == [(tmp_path / "fresh").resolve()]
    assert (len(splits.train), len(splits.test)) == (12, 3)


def test_download_never_writes_into_the_shipped_subset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cifar10, "_download", lambda root: pytest.fail("downloaded"))
    with pytest.raises(ValueError, match="fewer than the 50000"):
        load_cifar10(None, train_size=50_000, download=True)


def test_batch_reader_handles_numpy_pickle_variants(tmp_path: Path) -> None:
    for protocol in (2, 4, 5):
        path = tmp_path / f"batch{protocol}"
        labels = np.arange(6, dtype=np.int64) % 10  # numpy scalars rather than ints
        batch = {b"labels": list(labels), b"data": np.arange(18, dtype=np.uint8).reshape(6, 3)}
        with path.open("wb") as f:
            pickle.dump(batch, f, protocol=protocol)
        loaded = load_batch(path)
        assert loaded[b"labels"] == list(range(6))
        assert torch.equal(loaded[b"data"], torch.arange(18, dtype=torch.uint8).reshape(6, 3))
    fortran = np.asfortranarray(np.arange(12, dtype=np.float32).reshape(3, 4))
    with (tmp_path / "fortran").open("wb") as f:
        pickle.dump({b"data": fortran}, f, protocol=2)
    assert torch.equal(load_batch(tmp_path / "fortran")[b"data"], torch.arange(12.0).reshape(3, 4))


class _Evil:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        import os

        return (os.system, ("echo pwned",))


def test_batch_reader_refuses_arbitrary_pickles(tmp_path: Path) -> None:
    path = tmp_path / "data_batch_1"
    with path.open("wb") as f:
        pickle.dump({b"data": _Evil()}, f)
    with pytest.raises(ValueError, match=r"refusing to load (posix|os|nt)\.system"):
        load_batch(path)


def test_tensor_dataset_checks_and_head() -> None:
    with pytest.raises(ValueError, match="3 examples but y has 2"):
        TensorDataset(torch.zeros(3, 1), torch.zeros(2, dtype=torch.int64))
    data = TensorDataset(torch.arange(5.0), torch.arange(5))
    assert data.head(2).y.tolist() == [0, 1]
    with pytest.raises(ValueError):
        data.head(6)


@pytest.mark.skipif(not SHARED.is_dir(), reason="the shared CIFAR-10 subset is not on this host")
def test_make_shipped_subset_regenerates_the_same_bytes(tmp_path: Path) -> None:
    from worker.data.make_shipped_subset import SHIPPED, make_subset

    make_subset(SHARED, tmp_path, train=5000, test=1000)
    for name in ("data_batch_1", "test_batch", "batches.meta"):
        assert (tmp_path / name).read_bytes() == (SHIPPED / name).read_bytes(), name
