"""API tokens in the database: rows with salted hashes, never a token itself."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert, or_, select, update
from sqlalchemy.orm import Session

from catalog.store import tables as t

_token = t.table(t.ApiToken)


def create_token(conn: Connection, row: dict[str, Any]) -> int:
    """Insert a token row; an IntegrityError when an active token already has its name."""
    return int(conn.execute(insert(_token).values(**row).returning(_token.c.id)).scalar_one())


def read_token_by_key(conn: Connection, key_id: str) -> t.ApiToken | None:
    row = conn.execute(select(_token).where(_token.c.key_id == key_id)).mappings().first()
    return t.ApiToken(**row) if row is not None else None


def read_active_token_by_name(conn: Connection, name: str) -> t.ApiToken | None:
    row = (
        conn.execute(select(_token).where(_token.c.name == name, _token.c.revoked_at.is_(None)))
        .mappings()
        .first()
    )
    return t.ApiToken(**row) if row is not None else None


def read_tokens(session: Session, *, include_revoked: bool) -> Sequence[t.ApiToken]:
    query = select(t.ApiToken).order_by(t.ApiToken.name, t.ApiToken.id)  # type: ignore[arg-type]
    if not include_revoked:
        query = query.where(t.ApiToken.revoked_at.is_(None))  # type: ignore[union-attr]
    return session.scalars(query).all()


def revoke_token(conn: Connection, token_id: int, *, at: datetime, by: str) -> bool:
    done = conn.execute(
        update(_token)
        .where(_token.c.id == token_id, _token.c.revoked_at.is_(None))
        .values(revoked_at=at, revoked_by=by)
    ).rowcount
    return bool(done)


def touch_token(conn: Connection, token_id: int, *, at: datetime, every: timedelta) -> None:
    """Record a use, at most once per ``every``: a write per request would queue behind syncs."""
    conn.execute(
        update(_token)
        .where(_token.c.id == token_id)
        .where(or_(_token.c.last_used_at.is_(None), _token.c.last_used_at < at - every))
        .values(last_used_at=at)
    )
