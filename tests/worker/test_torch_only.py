"""DESIGN §10: the benchmark scripts run from source on a host with torch alone. The modules they
use must import, and the shipped data must load, with numpy, pydantic, safetensors, torchvision,
celery and the client blocked."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import sys
for name in ("numpy", "pydantic", "safetensors", "torchvision", "celery", "client", "httpx"):
    sys.modules[name] = None  # any import of these now raises ImportError
import torch
from worker.analysis import cmc, distances
from worker.data.cifar10 import load_cifar10
from worker.models import registry
from worker.training import evaluate, loop, optim, params
splits = load_cifar10(train_size=64, test_size=8)
assert splits.train.x.shape == (64, 3, 32, 32), splits.train.x.shape
print("ok")
"""


def test_benchmark_modules_need_torch_alone() -> None:
    result = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", SCRIPT],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("ok")
