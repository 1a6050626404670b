"""Checkpoints: a run's safetensors state at a step, stored by content hash."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from client.contract.results import Checkpoint
from server.artifacts import ArtifactStore, SafetensorsError
from server.db.models import ArtifactRecord, CheckpointRecord
from server.db.types import utcnow
from server.db.upsert import insert_ignore, upsert
from server.errors import Invalid, NotFound
from server.services.lookup import run_record
from server.services.views import checkpoint_view


def put_checkpoint(
    *, session: Session, store: ArtifactStore, run_id: int, step: int, data: bytes
) -> Checkpoint:
    """Store `data` as the run's checkpoint at `step` (replacing an older one at that step).

    The file is written before the rows, so a row never points at a missing file; the same
    bytes twice give the same sha256 and one artifact.
    """
    run_record(session, run_id)
    try:
        stored = store.put(data)
    except SafetensorsError as error:
        raise Invalid(f"not a safetensors file: {error}", type="safetensors") from None
    now = utcnow()
    insert_ignore(
        session,
        ArtifactRecord,
        [{"sha256": stored.sha256, "size": stored.size, "created_at": now}],
        key=("sha256",),
    )
    upsert(
        session,
        CheckpointRecord,
        [{"run_id": run_id, "step": step, "sha256": stored.sha256, "created_at": now}],
        key=("run_id", "step"),
        update=("sha256", "created_at"),
    )
    session.commit()
    return checkpoint_view(run_id, step, stored.sha256, stored.size)


def list_checkpoints(*, session: Session, run_id: int) -> list[Checkpoint]:
    run_record(session, run_id)
    rows = session.execute(
        select(CheckpointRecord.step, ArtifactRecord.sha256, ArtifactRecord.size)
        .join(ArtifactRecord, ArtifactRecord.sha256 == CheckpointRecord.sha256)
        .where(CheckpointRecord.run_id == run_id)
        .order_by(CheckpointRecord.step)
    )
    return [checkpoint_view(run_id, step, sha256, size) for step, sha256, size in rows]


def _file(store: ArtifactStore, sha256: str) -> Path:
    path = store.open_path(sha256)
    if path is None:
        raise NotFound(f"artifact {sha256} is recorded but missing from the artifact store")
    return path


def checkpoint_file(*, session: Session, store: ArtifactStore, run_id: int, step: int) -> Path:
    """The file holding the run's checkpoint at `step`."""
    run_record(session, run_id)
    sha256 = session.scalar(
        select(CheckpointRecord.sha256).where(
            CheckpointRecord.run_id == run_id, CheckpointRecord.step == step
        )
    )
    if sha256 is None:
        raise NotFound(f"run {run_id} has no checkpoint at step {step}")
    return _file(store, sha256)


def artifact_file(*, session: Session, store: ArtifactStore, sha256: str) -> Path:
    if session.get(ArtifactRecord, sha256.lower()) is None:
        raise NotFound(f"artifact {sha256} not found")
    return _file(store, sha256.lower())
