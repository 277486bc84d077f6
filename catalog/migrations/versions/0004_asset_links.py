"""asset links: two assets a person said are the same, with who and when

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 15:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import catalog.store.types

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "asset_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=False),
        sa.Column("other_id", sa.Integer(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("linked_by", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("linked_at", catalog.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.ForeignKeyConstraint(["asset_id"], ["asset.id"]),
        sa.ForeignKeyConstraint(["other_id"], ["asset.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("asset_id", "other_id", name="uq_asset_link"),
    )
    op.create_index(op.f("ix_asset_link_asset_id"), "asset_link", ["asset_id"], unique=False)
    op.create_index(op.f("ix_asset_link_other_id"), "asset_link", ["other_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_asset_link_other_id"), table_name="asset_link")
    op.drop_index(op.f("ix_asset_link_asset_id"), table_name="asset_link")
    op.drop_table("asset_link")
