"""The ON CONFLICT clause of the store's upserts, shared by its per-row and staged paths."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, and_, case, func, or_


def on_conflict(
    stmt: Any,
    table: Table,
    keys: tuple[str, ...],
    update_cols: tuple[str, ...] | None,
    keep: frozenset[str],
    guarded: frozenset[str],
    guard_by: str | None,
) -> Any:
    """``stmt`` (a dialect's INSERT into ``table``) with the upsert's ON CONFLICT clause."""
    if update_cols is None:
        return stmt.on_conflict_do_nothing(index_elements=list(keys))
    values = {
        c: func.coalesce(stmt.excluded[c], table.c[c]) if c in keep else stmt.excluded[c]
        for c in update_cols
    }
    if guard_by is not None:
        stored, incoming = table.c[guard_by], stmt.excluded[guard_by]
        # An observation older than the stored one changes nothing it guards; NULL on
        # both sides is last-write-wins.
        fresh = or_(stored.is_(None), and_(incoming.is_not(None), incoming >= stored))
        for c in guarded:
            values[c] = case((fresh, values[c]), else_=table.c[c])
    # Skip rows whose values are already stored: no write, no count, no MVCC churn.
    changed = or_(*(table.c[c].is_distinct_from(v) for c, v in values.items()))
    return stmt.on_conflict_do_update(index_elements=list(keys), set_=values, where=changed)
