"""The database schema (DESIGN §2) as typed SQLAlchemy 2 models.

Statuses of experiments and hulls are not stored: they are derived from job states on read, so
they can never disagree with the jobs. Seeds are 63-bit, hence BigInteger.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from server.db.types import UTCDateTime, utcnow

# Deterministic constraint names: batch migrations on SQLite must be able to name what they drop.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

JOB_STATUS_SQL = "status IN ('pending', 'queued', 'running', 'done', 'failed', 'cancelled')"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class ExperimentRecord(Base):
    __tablename__ = "experiments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    task: Mapped[str] = mapped_column(String(200))
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    owner: Mapped[str | None] = mapped_column(String(200), default=None)
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RunRecord(Base):
    """A trunk (split_step and branch NULL) or one branch of a hull."""

    __tablename__ = "runs"
    __table_args__ = (
        UniqueConstraint("experiment_id", "kind", "trunk", "split_step", "branch"),
        CheckConstraint("kind IN ('trunk', 'branch')", name="kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    experiment_id: Mapped[int] = mapped_column(
        ForeignKey("experiments.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    trunk: Mapped[int] = mapped_column(Integer)
    split_step: Mapped[int | None] = mapped_column(Integer, default=None)
    branch: Mapped[int | None] = mapped_column(Integer, default=None)
    init_seed: Mapped[int | None] = mapped_column(BigInteger, default=None)
    data_seed: Mapped[int] = mapped_column(BigInteger)


class JobRecord(Base):
    """One unit of work for a worker (one Celery task); its lease lives here, not in the broker."""

    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint("kind IN ('trunk', 'branches', 'cmc')", name="kind"),
        CheckConstraint(JOB_STATUS_SQL, name="status"),
        Index("ix_jobs_experiment_id_status", "experiment_id", "status"),
        Index("ix_jobs_status", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiments.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    trunk: Mapped[int] = mapped_column(Integer)
    split_step: Mapped[int | None] = mapped_column(Integer, default=None)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer)
    depends_on: Mapped[list[int]] = mapped_column(JSON, default=list)
    worker: Mapped[str | None] = mapped_column(String(200), default=None)
    lease_token: Mapped[str | None] = mapped_column(String(64), default=None)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    info: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class HullRecord(Base):
    """One hull (trunk r, split k): empty until its cmc job completes, then the CMC summary."""

    __tablename__ = "hulls"
    __table_args__ = (UniqueConstraint("experiment_id", "trunk", "split_step"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiments.id", ondelete="CASCADE"))
    trunk: Mapped[int] = mapped_column(Integer)
    split_step: Mapped[int] = mapped_column(Integer)
    split_epoch: Mapped[float] = mapped_column(Float)
    p_conv: Mapped[float | None] = mapped_column(Float, default=None)
    p_rand: Mapped[float | None] = mapped_column(Float, default=None)
    p_conv_std: Mapped[float | None] = mapped_column(Float, default=None)
    p_rand_std: Mapped[float | None] = mapped_column(Float, default=None)
    n_samples: Mapped[int] = mapped_column(Integer, default=0)
    eval_examples: Mapped[int | None] = mapped_column(Integer, default=None)
    endpoints: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    endpoint_distances: Mapped[list[list[float]]] = mapped_column(JSON, default=list)
    mean_endpoint_loss: Mapped[float | None] = mapped_column(Float, default=None)
    mean_endpoint_distance: Mapped[float | None] = mapped_column(Float, default=None)
    mean_sample_distance: Mapped[float | None] = mapped_column(Float, default=None)


class HullSampleRecord(Base):
    """One convex sample j of a hull and its random twin (every sample is kept, DESIGN §4)."""

    __tablename__ = "hull_samples"

    hull_id: Mapped[int] = mapped_column(
        ForeignKey("hulls.id", ondelete="CASCADE"), primary_key=True
    )
    j: Mapped[int] = mapped_column(Integer, primary_key=True)
    weights: Mapped[list[float]] = mapped_column(JSON)
    closest: Mapped[int] = mapped_column(Integer)
    distance: Mapped[float] = mapped_column(Float)
    loss_conv: Mapped[float] = mapped_column(Float)
    loss_end: Mapped[float] = mapped_column(Float)
    loss_rand: Mapped[float] = mapped_column(Float)
    acc_conv: Mapped[float] = mapped_column(Float)
    acc_end: Mapped[float] = mapped_column(Float)
    acc_rand: Mapped[float] = mapped_column(Float)
    conv_lower: Mapped[bool] = mapped_column(Boolean)
    rand_lower: Mapped[bool] = mapped_column(Boolean)


class MetricRecord(Base):
    """A training-curve value; the key (run, name, step) makes re-ingestion an upsert."""

    __tablename__ = "metrics"

    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    step: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    value: Mapped[float] = mapped_column(Float)


class ArtifactRecord(Base):
    """A content-addressed file of the artifact store (safetensors), keyed by its sha256."""

    __tablename__ = "artifacts"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CheckpointRecord(Base):
    """Which artifact holds a run's state at a step."""

    __tablename__ = "checkpoints"

    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    step: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    sha256: Mapped[str] = mapped_column(ForeignKey("artifacts.sha256"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
