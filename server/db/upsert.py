"""Bulk INSERT ... ON CONFLICT for SQLite and Postgres, sent as executemany in chunks.

Ingest must be idempotent (a worker may post the same rows twice after a retry), and it must be
fast: one compiled statement executed over many parameter sets (sqlite3's executemany, psycopg's
pipelined executemany) is an order of magnitude quicker than a giant multi-row VALUES clause,
which SQLAlchemy would have to compile anew for every chunk.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from server.db.models import Base

CHUNK_ROWS = 5_000  # bounds the memory of one call; the whole upsert stays one transaction


def _insert_for(session: Session, model: type[Base]) -> Any:
    dialect = session.get_bind().dialect.name
    table = Base.metadata.tables[model.__tablename__]
    if dialect == "sqlite":
        return sqlite.insert(table)
    if dialect == "postgresql":
        return postgresql.insert(table)
    raise NotImplementedError(f"upsert is implemented for sqlite and postgresql, not {dialect}")


def _execute_in_chunks(
    session: Session, statement: Any, rows: Sequence[Mapping[str, Any]], chunk_rows: int
) -> None:
    connection = session.connection()
    for start in range(0, len(rows), chunk_rows):
        connection.execute(statement, list(rows[start : start + chunk_rows]))


def upsert(
    session: Session,
    model: type[Base],
    rows: Sequence[Mapping[str, Any]],
    *,
    key: Sequence[str],
    update: Sequence[str],
    chunk_rows: int = CHUNK_ROWS,
) -> int:
    """Insert `rows`, or overwrite the `update` columns of rows whose `key` already exists.

    Every row must carry the same columns. Does not commit. Returns the number of rows sent.
    """
    if rows:
        insert = _insert_for(session, model)
        statement = insert.on_conflict_do_update(
            index_elements=list(key), set_={name: insert.excluded[name] for name in update}
        )
        _execute_in_chunks(session, statement, rows, chunk_rows)
    return len(rows)


def insert_ignore(
    session: Session, model: type[Base], rows: Sequence[Mapping[str, Any]], *, key: Sequence[str]
) -> None:
    """Insert `rows`, keeping rows whose `key` already exists (a race-free get-or-create)."""
    if rows:
        statement = _insert_for(session, model).on_conflict_do_nothing(index_elements=list(key))
        _execute_in_chunks(session, statement, rows, CHUNK_ROWS)
