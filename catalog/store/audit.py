"""The audit log: one row per change a principal made (tokens, links), written in the same
transaction as the change itself, so neither exists without the other."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select
from sqlalchemy.orm import Session

from catalog.pagination import Page, PageRequest
from catalog.store import tables as t
from catalog.store.paging import newest_first

_audit = t.table(t.AuditEvent)


def write_audit(
    conn: Connection,
    *,
    at: datetime,
    principal: str,
    action: str,
    target: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    conn.execute(
        insert(_audit).values(
            at=at, principal=principal, action=action, target=target, detail=detail or {}
        )
    )


def _filtered(query: Any, principal: str | None, action: str | None) -> Any:
    if principal is not None:
        query = query.where(_audit.c.principal == principal)
    if action is not None:
        query = query.where(_audit.c.action == action)
    return query


def read_audit(
    session: Session, page: PageRequest, *, principal: str | None, action: str | None
) -> Page[t.AuditEvent]:
    """Newest first; the cursor is the last row's id (ids grow with time)."""
    query = _filtered(select(t.AuditEvent), principal, action)
    return newest_first(session, query, _audit.c.id, page)


def count_audit(session: Session, *, principal: str | None, action: str | None) -> int:
    query = _filtered(select(func.count()).select_from(_audit), principal, action)
    return int(session.execute(query).scalar_one())
