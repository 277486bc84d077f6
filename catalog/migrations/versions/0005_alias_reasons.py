"""alias reasons: why a source's name for an asset is not the asset's identity

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 15:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("asset_alias") as batch:
        batch.add_column(sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("asset_alias") as batch:
        batch.drop_column("reason")
