"""Engine setup: SQLite pragmas and BEGIN IMMEDIATE, URL handling, aware UTC timestamps."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select, text

from server.db.migrate import upgrade
from server.db.models import ExperimentRecord
from server.db.session import make_engine, make_sessionmaker, normalize_url


def test_sqlite_pragmas_and_parent_folder(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "lmclab.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
    assert path.parent.is_dir()
    engine.dispose()


def test_sqlite_transactions_take_the_write_lock_up_front(tmp_path: Path) -> None:
    """Even a transaction that has only read holds the write lock (BEGIN IMMEDIATE), so a
    read-then-write can never fail with "database is locked" half way."""
    path = tmp_path / "lmclab.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    with sessions() as session:
        session.execute(select(ExperimentRecord.id)).all()
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        session.rollback()
    other.execute("BEGIN IMMEDIATE")
    other.execute("ROLLBACK")
    other.close()
    engine.dispose()


def test_sqlite_rolls_back_ddl_and_dml_together(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as connection:
        connection.execute(text("CREATE TABLE t (x INTEGER)"))
        connection.rollback()
    with engine.connect() as connection:
        names = connection.exec_driver_sql("SELECT name FROM sqlite_master").scalars().all()
        assert "t" not in names
    engine.dispose()


@pytest.mark.parametrize(
    ("given", "driver"),
    [
        ("postgresql://u@h/db", "postgresql+psycopg"),
        ("postgres://u@h/db", "postgresql+psycopg"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg"),
        ("sqlite:///x.db", "sqlite"),
    ],
)
def test_postgres_urls_use_psycopg(given: str, driver: str) -> None:
    assert normalize_url(given).drivername == driver


def test_timestamps_come_back_aware_utc(database_url: str) -> None:
    upgrade(database_url)
    engine = make_engine(database_url)
    sessions = make_sessionmaker(engine)
    moment = datetime(2024, 5, 1, 12, 30, tzinfo=timezone(timedelta(hours=2)))
    with sessions() as session:
        record = ExperimentRecord(name="t", task="t", spec={}, created_at=moment)
        session.add(record)
        session.commit()
        record_id = record.id
    with sessions() as session:
        loaded = session.get_one(ExperimentRecord, record_id)
        assert loaded.created_at == moment and loaded.created_at.tzinfo == UTC
        session.delete(loaded)
        session.commit()
    with sessions() as session:
        session.add(ExperimentRecord(name="t", task="t", spec={}, created_at=datetime(2024, 1, 1)))
        with pytest.raises(Exception, match="naive datetime"):
            session.flush()
    engine.dispose()
