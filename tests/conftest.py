"""Fixtures shared by every test package: databases (SQLite and a real Postgres) and Settings.

Postgres: one fresh database per test session on the machine's server (trust auth), dropped at
the end; tests on it start from empty tables. Without a reachable Postgres the tests that need
it fail with a clear message, unless LMCLAB_TEST_NO_POSTGRES=1 (then they are skipped).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from client.settings import Settings

POSTGRES_ADMIN_ENV = "LMCLAB_TEST_POSTGRES_ADMIN"
NO_POSTGRES_ENV = "LMCLAB_TEST_NO_POSTGRES"
ADMIN_CANDIDATES = (
    "postgresql://postgres@127.0.0.1:5432/test",
    "postgresql://root@127.0.0.1:5432/test",
)


def _connect_admin() -> tuple[object, str]:
    """An autocommit connection to the admin database, trying the usual local users."""
    import psycopg

    given = os.environ.get(POSTGRES_ADMIN_ENV)
    errors = []
    for url in [given] if given else ADMIN_CANDIDATES:
        try:
            return psycopg.connect(url, autocommit=True, connect_timeout=5), url
        except psycopg.OperationalError as error:
            errors.append(f"{url}: {str(error).strip()}")
    if os.environ.get(NO_POSTGRES_ENV) == "1":
        pytest.skip(f"Postgres unreachable and {NO_POSTGRES_ENV}=1")
    pytest.fail(
        "these tests need the machine's Postgres (127.0.0.1:5432, trust auth, database `test`)"
        f"; set {NO_POSTGRES_ENV}=1 to skip them, or {POSTGRES_ADMIN_ENV} to point elsewhere.\n"
        + "\n".join(errors),
        pytrace=False,
    )


@pytest.fixture(scope="session")
def postgres_database_url() -> Iterator[str]:
    """A fresh `lmclab_test_<random>` database for this test session (a SQLAlchemy URL)."""
    import psycopg

    connection, admin = _connect_admin()
    assert isinstance(connection, psycopg.Connection)
    name = f"lmclab_test_{uuid.uuid4().hex[:12]}"
    with connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    base = admin.rsplit("/", 1)[0]
    yield base.replace("postgresql://", "postgresql+psycopg://", 1) + f"/{name}"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _children_first(tables: list[str], edges: list[tuple[str, str]]) -> list[str]:
    """Order tables so that each comes before the tables its foreign keys point at."""
    ordered: list[str] = []
    remaining = set(tables)
    while remaining:
        # a table can go once no remaining table (other than itself) still points at it
        ready = sorted(
            t for t in remaining if not any(p == t and c in remaining and c != t for c, p in edges)
        )
        if not ready:  # a cycle: fall back to any order (DELETE then fails loudly)
            ready = sorted(remaining)
        ordered.extend(ready)
        remaining -= set(ready)
    return ordered


def empty_postgres_tables(url: str) -> None:
    """Empty every table but alembic's and restart the id sequences, so each test starts from a
    migrated, empty schema. DELETE in foreign-key order: on tables this small it takes a few
    milliseconds, where TRUNCATE takes a tenth of a second per test."""
    import psycopg

    plain = url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(plain, autocommit=True) as connection:
        tables = [
            row[0]
            for row in connection.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename <> 'alembic_version'"
            )
        ]
        edges = [
            (row[0], row[1])
            for row in connection.execute(
                "SELECT conrelid::regclass::text, confrelid::regclass::text "
                "FROM pg_constraint WHERE contype = 'f'"
            )
        ]
        sequences = [
            row[0]
            for row in connection.execute(
                "SELECT sequence_name FROM information_schema.sequences "
                "WHERE sequence_schema = 'public'"
            )
        ]
        with connection.transaction():
            for table in _children_first(tables, edges):
                connection.execute(f'DELETE FROM "{table}"')
            for sequence in sequences:
                connection.execute(f'ALTER SEQUENCE "{sequence}" RESTART')


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test that asks for a database runs twice: on a SQLite file and on Postgres."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'db' / 'lmclab.db'}"
    url: str = request.getfixturevalue("postgres_database_url")
    empty_postgres_tables(url)
    return url


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """Settings for one test: its own home, artifact dir and filesystem broker folder.

    The reaper's period is long so that tests drive leases themselves (reap_expired_leases).
    """
    return Settings(
        home=tmp_path / "home",
        database_url=database_url,
        broker_url="filesystem://",
        artifact_dir=tmp_path / "artifacts",
        lease_seconds=30.0,
        heartbeat_seconds=5.0,
        reaper_seconds=3600.0,
        max_attempts=2,
    )
