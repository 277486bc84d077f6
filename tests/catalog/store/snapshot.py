"""Every row of every table, for before/after comparisons."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlmodel import SQLModel

from catalog.store.store import Store
from catalog.store.versions import SYNC_VERSION

# Bookkeeping of syncs and starts (the identity fingerprint a start stores), not contents.
BOOKKEEPING = ("sync_state", "catalog_state")


def snapshot(store: Store, *, skip: tuple[str, ...] = BOOKKEEPING) -> dict[str, list[Any]]:
    """Rows by table. Skipping ``sync_state`` skips the sync version too: it counts changes to
    sync states (every sync moves it), not to the catalog."""
    out: dict[str, list[Any]] = {}
    with store.engine.connect() as conn:
        for name, table in sorted(SQLModel.metadata.tables.items()):
            if name in skip:
                continue
            order = list(table.primary_key.columns)
            query = select(table).order_by(*order)
            if name == "meta" and "sync_state" in skip:
                query = query.where(table.c.key != SYNC_VERSION)
            out[name] = [tuple(r) for r in conn.execute(query)]
    return out


def counts(store: Store) -> dict[str, int]:
    return {name: len(rows) for name, rows in snapshot(store).items()}
