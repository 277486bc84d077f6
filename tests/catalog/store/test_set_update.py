"""Updates of many rows by key in one statement, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import ColumnElement, Table, insert, or_, select

from catalog.store import tables as t
from catalog.store.set_update import update_rows
from catalog.store.store import Store

ASSET = t.table(t.Asset)
T0 = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)


def _later(asset: Table, incoming: Any) -> ColumnElement[bool]:
    return or_(
        asset.c.last_produced_at.is_(None), asset.c.last_produced_at < incoming.last_produced_at
    )


def _assets(store: Store, made: list[datetime | None]) -> list[int]:
    with store.transaction() as conn:
        conn.execute(
            insert(ASSET),
            [
                {"uri": f"s3://b/{i}", "meta": {}, "last_produced_at": at}
                for i, at in enumerate(made)
            ],
        )
        return list(conn.execute(select(ASSET.c.id).order_by(ASSET.c.uri)).scalars())


def _made(store: Store) -> list[datetime | None]:
    with store.engine.connect() as conn:
        q = select(ASSET.c.last_produced_at).order_by(ASSET.c.uri)
        return list(conn.execute(q).scalars())


def test_rows_are_updated_by_key_where_the_condition_holds(store: Store) -> None:
    ids = _assets(store, [None, T0, T0, T0])
    later, earlier = T0 + timedelta(hours=1), T0 - timedelta(hours=1)
    other_zone = (T0 + timedelta(seconds=1)).astimezone(timezone(timedelta(hours=5)))
    rows = [(ids[0], earlier), (ids[1], later), (ids[2], earlier), (ids[3], other_zone)]
    with store.transaction() as conn:
        changed = update_rows(conn, ASSET, ("id", "last_produced_at"), rows, _later)
    assert changed == 3
    assert _made(store) == [earlier, later, T0, T0 + timedelta(seconds=1)]


def test_values_may_be_null_and_unknown_keys_change_nothing(store: Store) -> None:
    ids = _assets(store, [T0, T0])
    with store.transaction() as conn:
        changed = update_rows(conn, ASSET, ("id", "last_produced_at"), [(ids[1], None), (-5, T0)])
        assert update_rows(conn, ASSET, ("id", "last_produced_at"), []) == 0
    assert changed == 1
    assert _made(store) == [T0, None]


def test_thousands_of_rows_in_one_statement(store: Store) -> None:
    ids = _assets(store, [None] * 5000)
    rows = [(i, T0 + timedelta(seconds=n)) for n, i in enumerate(ids)]
    with store.transaction() as conn:
        assert update_rows(conn, ASSET, ("id", "last_produced_at"), rows, _later) == 5000
    by_id = dict(rows)
    with store.engine.connect() as conn:
        stored = conn.execute(select(ASSET.c.id, ASSET.c.last_produced_at)).all()
    assert all(at == by_id[i] for i, at in stored)
