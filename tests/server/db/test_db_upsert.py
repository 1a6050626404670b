"""ON CONFLICT upserts on both dialects, across chunks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.migrate import upgrade
from server.db.models import ArtifactRecord, ExperimentRecord, MetricRecord, RunRecord
from server.db.session import make_engine, make_sessionmaker
from server.db.types import utcnow
from server.db.upsert import insert_ignore, upsert


@pytest.fixture
def db(database_url: str) -> Iterator[Session]:
    upgrade(database_url)
    engine = make_engine(database_url)
    with make_sessionmaker(engine)() as session:
        yield session
    engine.dispose()


def make_run(session: Session) -> int:
    experiment = ExperimentRecord(name="t", task="t", spec={})
    session.add(experiment)
    session.flush()
    run = RunRecord(experiment_id=experiment.id, kind="trunk", trunk=0, data_seed=2**63 - 1)
    session.add(run)
    session.commit()
    return run.id


def values(session: Session, run_id: int) -> list[tuple[int, float]]:
    rows = session.execute(
        select(MetricRecord.step, MetricRecord.value)
        .where(MetricRecord.run_id == run_id)
        .order_by(MetricRecord.step)
    )
    return [(step, value) for step, value in rows]


def test_upsert_inserts_then_updates_across_chunks(db: Session) -> None:
    run_id = make_run(db)
    rows: list[dict[str, Any]] = [
        {"run_id": run_id, "step": s, "name": "loss", "value": float(s)} for s in range(10)
    ]
    key, update = ("run_id", "step", "name"), ("value",)
    assert upsert(db, MetricRecord, rows, key=key, update=update, chunk_rows=3) == 10
    db.commit()
    assert values(db, run_id) == [(s, float(s)) for s in range(10)]

    changed = [{**row, "value": -row["value"]} for row in rows[5:]]
    upsert(db, MetricRecord, changed, key=key, update=update, chunk_rows=2)
    db.commit()
    assert values(db, run_id) == [(s, float(s) if s < 5 else -float(s)) for s in range(10)]
    assert upsert(db, MetricRecord, [], key=key, update=update) == 0


def test_insert_ignore_keeps_the_first(db: Session) -> None:
    for size in (1, 2):
        row = {"sha256": "a" * 64, "size": size, "created_at": utcnow()}
        insert_ignore(db, ArtifactRecord, [row], key=["sha256"])
    db.commit()
    assert db.scalars(select(ArtifactRecord.size)).all() == [1]
