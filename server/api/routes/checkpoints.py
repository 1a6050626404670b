"""Checkpoints (safetensors bytes in, bytes out) and raw artifacts by sha256."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path
from fastapi.responses import FileResponse

from client.contract.results import Checkpoint
from server.api.deps import SessionDep, StoreDep
from server.services import checkpoints as service

router = APIRouter(tags=["checkpoints"])

OCTET_STREAM = "application/octet-stream"
BYTES_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {OCTET_STREAM: {}}, "description": "safetensors bytes"}
}
Step = Annotated[int, Path(ge=0)]


@router.get("/runs/{run_id}/checkpoints")
def list_checkpoints(run_id: int, session: SessionDep) -> list[Checkpoint]:
    return service.list_checkpoints(session=session, run_id=run_id)


@router.put("/runs/{run_id}/checkpoints/{step}")
def put_checkpoint(
    run_id: int,
    step: Step,
    data: Annotated[bytes, Body(media_type=OCTET_STREAM, description="a safetensors file")],
    session: SessionDep,
    store: StoreDep,
) -> Checkpoint:
    """Store the run's state at `step`; 422 unless the body is a safetensors file."""
    return service.put_checkpoint(session=session, store=store, run_id=run_id, step=step, data=data)


@router.get(
    "/runs/{run_id}/checkpoints/{step}", response_class=FileResponse, responses=BYTES_RESPONSE
)
def get_checkpoint(run_id: int, step: Step, session: SessionDep, store: StoreDep) -> FileResponse:
    path = service.checkpoint_file(session=session, store=store, run_id=run_id, step=step)
    return FileResponse(path, media_type=OCTET_STREAM, filename=path.name)


@router.get("/artifacts/{sha256}", response_class=FileResponse, responses=BYTES_RESPONSE)
def get_artifact(
    sha256: Annotated[str, Path(pattern="^[0-9a-fA-F]{64}$")], session: SessionDep, store: StoreDep
) -> FileResponse:
    path = service.artifact_file(session=session, store=store, sha256=sha256)
    return FileResponse(path, media_type=OCTET_STREAM, filename=path.name)
