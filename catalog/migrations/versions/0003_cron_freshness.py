"""cron freshness: an asset's policy may tie its maximum age to deadlines

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 14:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("asset") as batch:
        batch.add_column(sa.Column("freshness_cron", sqlmodel.sql.sqltypes.AutoString()))
        batch.add_column(sa.Column("freshness_timezone", sqlmodel.sql.sqltypes.AutoString()))


def downgrade() -> None:
    with op.batch_alter_table("asset") as batch:
        batch.drop_column("freshness_timezone")
        batch.drop_column("freshness_cron")
