"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-24 08:21:54.477009
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

import catalog.store.types

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "asset",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uri", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("freshness_max_age_s", sa.Float(), nullable=True),
        sa.Column(
            "last_produced_at", catalog.store.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("stale_after", catalog.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "meta",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("uri"),
    )
    with op.batch_alter_table("asset", schema=None) as batch_op:
        batch_op.create_index("ix_asset_stale_after", ["stale_after"], unique=False)

    op.create_table(
        "meta",
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "owner",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity_kind", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("entity_kind", "entity_id", "name"),
    )
    with op.batch_alter_table("owner", schema=None) as batch_op:
        batch_op.create_index("ix_owner_name", ["name", "entity_kind"], unique=False)

    op.create_table(
        "source",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("base_url", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column(
            "settings",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "tag",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity_kind", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("tag", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("entity_kind", "entity_id", "tag"),
    )
    with op.batch_alter_table("tag", schema=None) as batch_op:
        batch_op.create_index("ix_tag_tag", ["tag", "entity_kind"], unique=False)

    op.create_table(
        "asset_alias",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("alias", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.ForeignKeyConstraint(
            ["asset_id"],
            ["asset.id"],
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["source.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source_id", "alias"),
    )
    with op.batch_alter_table("asset_alias", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_asset_alias_asset_id"), ["asset_id"], unique=False)

    op.create_table(
        "lineage_edge",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("origin", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("from_kind", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("from_id", sa.Integer(), nullable=False),
        sa.Column("to_kind", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("to_id", sa.Integer(), nullable=False),
        sa.Column("first_seen", catalog.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen", catalog.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["source.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "source_id", "origin", "from_kind", "from_id", "to_kind", "to_id", name="uq_edge"
        ),
    )
    with op.batch_alter_table("lineage_edge", schema=None) as batch_op:
        batch_op.create_index("ix_edge_from", ["from_kind", "from_id"], unique=False)
        batch_op.create_index("ix_edge_to", ["to_kind", "to_id"], unique=False)

    op.create_table(
        "pipeline",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("external_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("schedule", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("paused", sa.Boolean(), nullable=True),
        sa.Column("ui_url", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column(
            "meta",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["source.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source_id", "external_id"),
    )
    op.create_table(
        "sync_state",
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column(
            "cursor",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("started_at", catalog.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("succeeded_at", catalog.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("failed_at", catalog.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("batches", sa.Integer(), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column(
            "notices",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("lease_owner", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column(
            "lease_expires_at", catalog.store.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["source.id"],
        ),
        sa.PrimaryKeyConstraint("source_id"),
    )
    op.create_table(
        "run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("pipeline_id", sa.Integer(), nullable=False),
        sa.Column("external_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("raw_status", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("trigger", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("logical_date", catalog.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("queued_at", catalog.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("started_at", catalog.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", catalog.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("happened_at", catalog.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=True),
        sa.Column("parent_run_id", sa.Integer(), nullable=True),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("ui_url", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column(
            "meta",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["parent_run_id"],
            ["run.id"],
        ),
        sa.ForeignKeyConstraint(
            ["pipeline_id"],
            ["pipeline.id"],
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["source.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source_id", "external_id"),
    )
    with op.batch_alter_table("run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_run_happened_at"), ["happened_at"], unique=False)
        batch_op.create_index(
            "ix_run_pipeline_happened", ["pipeline_id", "happened_at"], unique=False
        )
        batch_op.create_index("ix_run_source_happened", ["source_id", "happened_at"], unique=False)
        batch_op.create_index("ix_run_status_happened", ["status", "happened_at"], unique=False)

    op.create_table(
        "task",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pipeline_id", sa.Integer(), nullable=False),
        sa.Column("external_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("ui_url", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column(
            "meta",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["pipeline_id"],
            ["pipeline.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("pipeline_id", "external_id"),
    )
    op.create_table(
        "check_result",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("result_key", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=False),
        sa.Column("check_name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("severity", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("at", catalog.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column(
            "meta",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["asset_id"],
            ["asset.id"],
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["run.id"],
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["source.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source_id", "result_key"),
    )
    with op.batch_alter_table("check_result", schema=None) as batch_op:
        batch_op.create_index("ix_check_result_asset_at", ["asset_id", "at"], unique=False)

    op.create_table(
        "task_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("map_index", sa.Integer(), nullable=False),
        sa.Column(
            "external_id", sqlmodel.sql.sqltypes.AutoString(), server_default="", nullable=False
        ),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("raw_status", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("queued_at", catalog.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("started_at", catalog.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", catalog.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("duration_s", sa.Float(), nullable=True),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("log_url", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column(
            "meta",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["run.id"],
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["task.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("run_id", "task_id", "attempt", "map_index", "external_id"),
    )
    with op.batch_alter_table("task_run", schema=None) as batch_op:
        batch_op.create_index("ix_task_run_task_started", ["task_id", "started_at"], unique=False)

    op.create_table(
        "asset_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("event_key", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("at", catalog.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("task_run_id", sa.Integer(), nullable=True),
        sa.Column("row_count", sa.Integer(), nullable=True),
        sa.Column(
            "meta",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["asset_id"],
            ["asset.id"],
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["run.id"],
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["source.id"],
        ),
        sa.ForeignKeyConstraint(
            ["task_run_id"],
            ["task_run.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source_id", "event_key"),
    )
    with op.batch_alter_table("asset_event", schema=None) as batch_op:
        batch_op.create_index("ix_asset_event_asset_at", ["asset_id", "at"], unique=False)
        batch_op.create_index("ix_asset_event_kind_at", ["kind", "at"], unique=False)
        batch_op.create_index(batch_op.f("ix_asset_event_run_id"), ["run_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("asset_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_asset_event_run_id"))
        batch_op.drop_index("ix_asset_event_kind_at")
        batch_op.drop_index("ix_asset_event_asset_at")

    op.drop_table("asset_event")
    with op.batch_alter_table("task_run", schema=None) as batch_op:
        batch_op.drop_index("ix_task_run_task_started")

    op.drop_table("task_run")
    with op.batch_alter_table("check_result", schema=None) as batch_op:
        batch_op.drop_index("ix_check_result_asset_at")

    op.drop_table("check_result")
    op.drop_table("task")
    with op.batch_alter_table("run", schema=None) as batch_op:
        batch_op.drop_index("ix_run_status_happened")
        batch_op.drop_index("ix_run_source_happened")
        batch_op.drop_index("ix_run_pipeline_happened")
        batch_op.drop_index(batch_op.f("ix_run_happened_at"))

    op.drop_table("run")
    op.drop_table("sync_state")
    op.drop_table("pipeline")
    with op.batch_alter_table("lineage_edge", schema=None) as batch_op:
        batch_op.drop_index("ix_edge_to")
        batch_op.drop_index("ix_edge_from")

    op.drop_table("lineage_edge")
    with op.batch_alter_table("asset_alias", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_asset_alias_asset_id"))

    op.drop_table("asset_alias")
    with op.batch_alter_table("tag", schema=None) as batch_op:
        batch_op.drop_index("ix_tag_tag")

    op.drop_table("tag")
    op.drop_table("source")
    with op.batch_alter_table("owner", schema=None) as batch_op:
        batch_op.drop_index("ix_owner_name")

    op.drop_table("owner")
    op.drop_table("meta")
    with op.batch_alter_table("asset", schema=None) as batch_op:
        batch_op.drop_index("ix_asset_stale_after")

    op.drop_table("asset")
