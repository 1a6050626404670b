"""Alembic: the migrated schema is exactly the models' schema, on SQLite and on Postgres."""

from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

import migrations
from server.db.migrate import alembic_config, upgrade
from server.db.models import Base
from server.db.session import make_engine

MIGRATIONS = Path(migrations.__file__).parent


def schema_diff(url: str) -> list[object]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            diff: list[object] = compare_metadata(context, Base.metadata)
            connection.rollback()
            return diff
    finally:
        engine.dispose()


def test_migrated_schema_matches_the_models(database_url: str) -> None:
    upgrade(database_url)
    assert schema_diff(database_url) == []


def test_upgrade_is_repeatable_and_reversible(database_url: str, tmp_path: Path) -> None:
    here = Path.cwd()
    os.chdir(tmp_path)  # migrations are found from the package, wherever the server runs
    try:
        upgrade(database_url)
        upgrade(database_url)
        command.downgrade(alembic_config(database_url), "base")
        engine = make_engine(database_url)
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        engine.dispose()
        upgrade(database_url)
    finally:
        os.chdir(here)
    assert schema_diff(database_url) == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_one_head_and_frozen_revisions(database_url: str) -> None:
    script = ScriptDirectory.from_config(alembic_config(database_url))
    assert len(script.get_heads()) == 1
    assert (MIGRATIONS / "script.py.mako").is_file()  # needed by `alembic revision`
    for path in (MIGRATIONS / "versions").glob("*.py"):
        tree = ast.parse(path.read_text())
        imported = {
            node.module.split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module
        } | {
            alias.name.split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        }
        assert "server" not in imported, f"{path.name} must not depend on today's models"
