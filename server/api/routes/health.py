"""GET /health."""

from __future__ import annotations

from fastapi import APIRouter

from client.contract.results import Health
from server.api.deps import DispatcherDep, SessionDep, SettingsDep
from server.services.health import check_health

router = APIRouter(tags=["health"])


@router.get("/health")
def health(session: SessionDep, dispatcher: DispatcherDep, settings: SettingsDep) -> Health:
    """The server is up and its database answers."""
    return check_health(
        session=session, dispatcher=dispatcher, database_url=settings.resolved_database_url
    )
