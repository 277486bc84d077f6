"""openlineage intake: observation times on runs and task runs, column lineage

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 09:21:03.409415
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

import catalog.store.types

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "column_lineage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("output_asset_id", sa.Integer(), nullable=False),
        sa.Column("output_column", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("input_asset_id", sa.Integer(), nullable=False),
        sa.Column("input_column", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column(
            "transformations",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("first_seen", catalog.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen", catalog.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["input_asset_id"],
            ["asset.id"],
        ),
        sa.ForeignKeyConstraint(
            ["output_asset_id"],
            ["asset.id"],
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["source.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "source_id",
            "output_asset_id",
            "output_column",
            "input_asset_id",
            "input_column",
            name="uq_column_lineage",
        ),
    )
    with op.batch_alter_table("column_lineage", schema=None) as batch_op:
        batch_op.create_index(
            "ix_column_lineage_input", ["input_asset_id", "input_column"], unique=False
        )
        batch_op.create_index(
            "ix_column_lineage_output", ["output_asset_id", "output_column"], unique=False
        )

    with op.batch_alter_table("run", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status_at", catalog.store.types.UTCDateTime(timezone=True), nullable=True)
        )

    with op.batch_alter_table("task_run", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status_at", catalog.store.types.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("task_run", schema=None) as batch_op:
        batch_op.drop_column("status_at")

    with op.batch_alter_table("run", schema=None) as batch_op:
        batch_op.drop_column("status_at")

    with op.batch_alter_table("column_lineage", schema=None) as batch_op:
        batch_op.drop_index("ix_column_lineage_output")
        batch_op.drop_index("ix_column_lineage_input")

    op.drop_table("column_lineage")
