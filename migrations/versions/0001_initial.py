"""Initial schema: experiments, runs, jobs, hulls, hull samples, metrics, artifacts, checkpoints.

Revision ID: 0001
Revises:
Create Date: 2026-12-03 22:00:51.080769
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "artifacts",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_artifacts")),
    )
    op.create_table(
        "experiments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("task", sa.String(length=200), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=True),
        sa.Column("cancelled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_experiments")),
    )
    op.create_table(
        "hulls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("experiment_id", sa.Integer(), nullable=False),
        sa.Column("trunk", sa.Integer(), nullable=False),
        sa.Column("split_step", sa.Integer(), nullable=False),
        sa.Column("split_epoch", sa.Float(), nullable=False),
        sa.Column("p_conv", sa.Float(), nullable=True),
        sa.Column("p_rand", sa.Float(), nullable=True),
        sa.Column("p_conv_std", sa.Float(), nullable=True),
        sa.Column("p_rand_std", sa.Float(), nullable=True),
        sa.Column("n_samples", sa.Integer(), nullable=False),
        sa.Column("eval_examples", sa.Integer(), nullable=True),
        sa.Column("endpoints", sa.JSON(), nullable=False),
        sa.Column("endpoint_distances", sa.JSON(), nullable=False),
        sa.Column("mean_endpoint_loss", sa.Float(), nullable=True),
        sa.Column("mean_endpoint_distance", sa.Float(), nullable=True),
        sa.Column("mean_sample_distance", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["experiments.id"],
            name=op.f("fk_hulls_experiment_id_experiments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hulls")),
        sa.UniqueConstraint(
            "experiment_id",
            "trunk",
            "split_step",
            name=op.f("uq_hulls_experiment_id_trunk_split_step"),
        ),
    )
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("experiment_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("trunk", sa.Integer(), nullable=False),
        sa.Column("split_step", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("depends_on", sa.JSON(), nullable=False),
        sa.Column("worker", sa.String(length=200), nullable=True),
        sa.Column("lease_token", sa.String(length=64), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("info", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN ('trunk', 'branches', 'cmc')", name=op.f("ck_jobs_kind")),
        sa.CheckConstraint(
            "status IN ('pending', 'queued', 'running', 'done', 'failed', 'cancelled')",
            name=op.f("ck_jobs_status"),
        ),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["experiments.id"],
            name=op.f("fk_jobs_experiment_id_experiments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
    )
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_jobs_experiment_id_status", ["experiment_id", "status"], unique=False
        )
        batch_op.create_index("ix_jobs_status", ["status"], unique=False)

    op.create_table(
        "runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("experiment_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("trunk", sa.Integer(), nullable=False),
        sa.Column("split_step", sa.Integer(), nullable=True),
        sa.Column("branch", sa.Integer(), nullable=True),
        sa.Column("init_seed", sa.BigInteger(), nullable=True),
        sa.Column("data_seed", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("kind IN ('trunk', 'branch')", name=op.f("ck_runs_kind")),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["experiments.id"],
            name=op.f("fk_runs_experiment_id_experiments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runs")),
        sa.UniqueConstraint(
            "experiment_id",
            "kind",
            "trunk",
            "split_step",
            "branch",
            name=op.f("uq_runs_experiment_id_kind_trunk_split_step_branch"),
        ),
    )
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_runs_experiment_id"), ["experiment_id"], unique=False)

    op.create_table(
        "checkpoints",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_checkpoints_run_id_runs"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["sha256"], ["artifacts.sha256"], name=op.f("fk_checkpoints_sha256_artifacts")
        ),
        sa.PrimaryKeyConstraint("run_id", "step", name=op.f("pk_checkpoints")),
    )
    with op.batch_alter_table("checkpoints", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_checkpoints_sha256"), ["sha256"], unique=False)

    op.create_table(
        "hull_samples",
        sa.Column("hull_id", sa.Integer(), nullable=False),
        sa.Column("j", sa.Integer(), nullable=False),
        sa.Column("weights", sa.JSON(), nullable=False),
        sa.Column("closest", sa.Integer(), nullable=False),
        sa.Column("distance", sa.Float(), nullable=False),
        sa.Column("loss_conv", sa.Float(), nullable=False),
        sa.Column("loss_end", sa.Float(), nullable=False),
        sa.Column("loss_rand", sa.Float(), nullable=False),
        sa.Column("acc_conv", sa.Float(), nullable=False),
        sa.Column("acc_end", sa.Float(), nullable=False),
        sa.Column("acc_rand", sa.Float(), nullable=False),
        sa.Column("conv_lower", sa.Boolean(), nullable=False),
        sa.Column("rand_lower", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["hull_id"],
            ["hulls.id"],
            name=op.f("fk_hull_samples_hull_id_hulls"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("hull_id", "j", name=op.f("pk_hull_samples")),
    )
    op.create_table(
        "metrics",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("step", sa.BigInteger(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_metrics_run_id_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("run_id", "name", "step", name=op.f("pk_metrics")),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("metrics")
    op.drop_table("hull_samples")
    with op.batch_alter_table("checkpoints", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_checkpoints_sha256"))

    op.drop_table("checkpoints")
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_runs_experiment_id"))

    op.drop_table("runs")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_jobs_status")
        batch_op.drop_index("ix_jobs_experiment_id_status")

    op.drop_table("jobs")
    op.drop_table("hulls")
    op.drop_table("experiments")
    op.drop_table("artifacts")
