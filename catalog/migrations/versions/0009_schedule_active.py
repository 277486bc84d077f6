"""schedule active: a pipeline's schedule and whether it is on, as one rule for every tool

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27 10:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("pipeline") as batch:
        batch.add_column(sa.Column("schedule_active", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("pipeline") as batch:
        batch.drop_column("schedule_active")
