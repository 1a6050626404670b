"""DESIGN §1: who may import whom. Checked two ways: statically over every source file, and by
importing each package in a fresh interpreter and looking at what got loaded."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

FORBIDDEN: dict[str, set[str]] = {
    "client": {
        "server",
        "worker",
        "migrations",
        "sqlalchemy",
        "fastapi",
        "celery",
        "torch",
        "alembic",
        "numpy",
        "safetensors",
    },
    "server": {"worker", "torch", "torchvision", "numpy", "safetensors"},
    "worker": {"server", "migrations", "sqlalchemy", "fastapi", "alembic"},
    "worker/analysis": {"celery", "client", "server", "httpx"},
}
# pandas is allowed in the client only inside functions (the lazy `.to_pandas()`).
LAZY_ONLY: dict[str, set[str]] = {"client": {"pandas"}}


def _imports(path: Path, *, top_level_only: bool) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
        elif isinstance(node, ast.If) and top_level_only:  # `if TYPE_CHECKING:` blocks are fine
            continue
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_forbidden_import_in_source(package: str) -> None:
    offenders = []
    for path in sorted((ROOT / package).rglob("*.py")):
        bad = _imports(path, top_level_only=False) & FORBIDDEN[package]
        if bad:
            offenders.append(f"{path.relative_to(ROOT)}: {sorted(bad)}")
    assert not offenders, "forbidden imports:\n" + "\n".join(offenders)


@pytest.mark.parametrize("package", sorted(LAZY_ONLY))
def test_lazy_imports_stay_inside_functions(package: str) -> None:
    offenders = []
    for path in sorted((ROOT / package).rglob("*.py")):
        bad = _imports(path, top_level_only=True) & LAZY_ONLY[package]
        if bad:
            offenders.append(f"{path.relative_to(ROOT)}: {sorted(bad)}")
    assert not offenders, "imports that must be lazy:\n" + "\n".join(offenders)


@pytest.mark.parametrize(
    ("modules", "must_not_load"),
    [
        (
            ["client", "client.cli", "client.demo", "client.lab"],
            ["torch", "sqlalchemy", "fastapi", "celery", "pandas", "server", "worker"],
        ),
        (["server", "server.app"], ["torch", "numpy", "worker"]),
        (["worker.tasks", "worker.runner"], ["server", "sqlalchemy", "fastapi"]),
    ],
)
def test_importing_loads_nothing_forbidden(modules: list[str], must_not_load: list[str]) -> None:
    code = (
        "import importlib, json, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        f"print(json.dumps([m for m in {must_not_load!r} if m in sys.modules]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
