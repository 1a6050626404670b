"""Hulls (trunk r, split k): CMC summaries, and every sample on request."""

from __future__ import annotations

from fastapi import APIRouter

from client.contract.results import Hull, HullRow
from server.api.deps import SessionDep
from server.services import hulls as service

router = APIRouter(prefix="/experiments/{experiment_id}/hulls", tags=["hulls"])


@router.get("")
def list_hulls(experiment_id: int, session: SessionDep) -> list[HullRow]:
    """One row per trunk x split, ordered by trunk, split step."""
    return service.list_hulls(session=session, experiment_id=experiment_id)


@router.get("/{trunk}/{split_step}")
def get_hull(
    experiment_id: int, trunk: int, split_step: int, session: SessionDep, samples: bool = False
) -> Hull:
    return service.get_hull(
        session=session,
        experiment_id=experiment_id,
        trunk=trunk,
        split_step=split_step,
        samples=samples,
    )
