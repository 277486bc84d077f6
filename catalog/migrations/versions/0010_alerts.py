"""alerts: rules as first seen, incidents, the delivery outbox and the evaluator's lease

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27 10:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import catalog.store.types

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OPEN = sa.text("status != 'resolved'")


def _ts(name: str, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, catalog.store.types.UTCDateTime(timezone=True), nullable=nullable)


def _str(name: str, length: int | None = None, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sqlmodel.sql.sqltypes.AutoString(length=length), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "alert_rule",
        _str("name", 200),
        _str("kind", 20),
        _ts("since", nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "alert",
        sa.Column("id", sa.Integer(), nullable=False),
        _str("rule", 200),
        _str("kind", 20),
        _str("key"),
        _str("status", 20),
        _str("severity", 20),
        _str("title"),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("silenced", sa.Boolean(), nullable=False),
        _ts("started_at", nullable=False),
        _ts("last_event_at", nullable=False),
        _ts("fired_at"),
        _ts("notified_at"),
        _ts("resolved_at"),
        sa.Column("details", catalog.store.types.json_type(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "uq_alert_open_key",
        "alert",
        ["rule", "key"],
        unique=True,
        sqlite_where=_OPEN,
        postgresql_where=_OPEN,
    )
    op.create_index("ix_alert_status_started", "alert", ["status", "started_at"], unique=False)
    op.create_table(
        "alert_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        _str("destination", 200),
        _str("action", 20),
        _str("state", 20),
        sa.Column("payload", catalog.store.types.json_type(), nullable=False),
        _ts("created_at", nullable=False),
        _ts("next_attempt_at", nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _str("claimed_by", 200, nullable=True),
        _ts("claimed_until"),
        _ts("sent_at"),
        _str("last_error", nullable=True),
        sa.ForeignKeyConstraint(["alert_id"], ["alert.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_alert_outbox_alert_id"), "alert_outbox", ["alert_id"], unique=False)
    op.create_index(
        "ix_alert_outbox_due",
        "alert_outbox",
        ["destination", "state", "next_attempt_at"],
        unique=False,
    )
    op.create_table(
        "alert_lease",
        _str("name", 50),
        _str("owner", 200, nullable=True),
        _ts("expires_at"),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("alert_lease")
    op.drop_index("ix_alert_outbox_due", table_name="alert_outbox")
    op.drop_index(op.f("ix_alert_outbox_alert_id"), table_name="alert_outbox")
    op.drop_table("alert_outbox")
    op.drop_index("ix_alert_status_started", table_name="alert")
    op.drop_index("uq_alert_open_key", table_name="alert")
    op.drop_table("alert")
    op.drop_table("alert_rule")
