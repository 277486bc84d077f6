"""identity fingerprint: the [identity] rules a catalog's assets were last resolved under

Revision ID: 0008
Revises: 0006
Create Date: 2026-11-27 10:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import catalog.store.types

revision: str = "0008"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # No row: the next start re-resolves the assets under the rules it is given, and stores
    # their fingerprint (a catalog already in agreement with them changes nothing).
    op.create_table(
        "catalog_state",
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("value", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("changed_at", catalog.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )


def downgrade() -> None:
    op.drop_table("catalog_state")
