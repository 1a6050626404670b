"""Compare-and-set: an UPDATE whose WHERE states the state it expects, so races lose cleanly."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, Update
from sqlalchemy.orm import Session


def rows_changed(session: Session, statement: Update) -> int:
    """Execute `statement` and return how many rows it changed."""
    result = cast(CursorResult[Any], session.execute(statement))
    return result.rowcount


def compare_and_set(session: Session, statement: Update) -> bool:
    """True when `statement` changed exactly one row, i.e. the expected state still held."""
    return rows_changed(session, statement) == 1
