"""Liveness with substance: the database answers, and what the server is connected to."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from client.contract.results import Health
from server import __version__
from server.db.session import normalize_url
from server.dispatch import Dispatcher
from server.errors import Unavailable


def check_health(*, session: Session, dispatcher: Dispatcher, database_url: str) -> Health:
    """Run `SELECT 1`; report the version, the database and the broker (passwords hidden)."""
    try:
        session.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        raise Unavailable(f"database does not answer: {error.__class__.__name__}") from None
    finally:
        session.rollback()
    return Health(
        status="ok",
        version=__version__,
        database=normalize_url(database_url).render_as_string(hide_password=True),
        broker=dispatcher.describe(),
    )
