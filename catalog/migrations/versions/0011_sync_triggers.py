"""sync triggers: what started each sync, and pushes waiting for the next one

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27 10:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import catalog.store.types

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sync_state") as batch:
        batch.add_column(
            sa.Column("sync_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True)
        )
        batch.add_column(
            sa.Column("trigger", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True)
        )
        batch.add_column(sa.Column("syncs", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(
            sa.Column("requested_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True)
        )
        batch.add_column(
            sa.Column("requested_at", catalog.store.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch.add_column(
            sa.Column("requested_hints", catalog.store.types.json_type(), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("sync_state") as batch:
        for column in (
            "requested_hints",
            "requested_at",
            "requested_id",
            "syncs",
            "trigger",
            "sync_id",
        ):
            batch.drop_column(column)
