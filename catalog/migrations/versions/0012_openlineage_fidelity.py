"""openlineage fidelity: received events (deduplicated), run identities, processing types

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-27 11:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

import catalog.store.types

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[object]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "lineage_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("run_key", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("event_type", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("event_time", catalog.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("received_at", catalog.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("payload", _json(), nullable=False),
        sa.Column("warnings", _json(), nullable=False),
        sa.ForeignKeyConstraint(["source_id"], ["source.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "source_id", "run_key", "event_type", "event_time", name="uq_lineage_event"
        ),
    )
    op.create_table(
        "lineage_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("identity", _json(), nullable=False),
        sa.Column("first_seen", catalog.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["source_id"], ["source.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source_id", "run_id", name="uq_lineage_run"),
    )
    with op.batch_alter_table("pipeline") as batch:
        batch.add_column(
            sa.Column("processing_type", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("pipeline") as batch:
        batch.drop_column("processing_type")
    op.drop_table("lineage_run")
    op.drop_table("lineage_event")
