from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.dialects.sqlite import DATETIME

from catalog.store import tables as t
from catalog.store.bulk import _sqlite_json, _sqlite_time, upsert
from catalog.store.staged import STAGE_MIN
from catalog.store.store import Store

_meta = t.Meta.__table__  # type: ignore[attr-defined]

SQLALCHEMY = DATETIME().bind_processor(None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "value",
    [
        datetime(2026, 1, 1, tzinfo=UTC),
        datetime(2026, 1, 1, 5, 6, 7, 89, tzinfo=timezone(timedelta(hours=2))),
        datetime(2026, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
        datetime(1, 1, 1),
        datetime(2026, 6, 1, 12),
    ],
)
def test_driver_path_writes_the_same_text_as_sqlalchemy(value: datetime) -> None:
    # Rows written by the bulk path and by the ORM must compare and sort alike in SQLite.
    naive = value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    assert _sqlite_time(value) == SQLALCHEMY(naive)


def test_json_round_trips() -> None:
    assert _sqlite_json({}) == "{}"
    assert _sqlite_json({"a": [1, "é"]}) == '{"a": [1, "\\u00e9"]}'
    assert _sqlite_json(None) is None


def _meta_rows(store: Store) -> dict[str, int]:
    with store.engine.connect() as conn:
        return {k: v for k, v in conn.execute(select(_meta.c.key, _meta.c.value))}


def _upsert(store: Store, rows: list[dict[str, Any]]) -> int:
    with store.transaction() as conn:
        return upsert(conn, _meta, rows, ["key"], ["value"])


def test_many_rows_upsert_like_one_at_a_time(store: Store) -> None:
    # Enough rows for the fast paths (plain inserts first on SQLite, staged on PostgreSQL).
    before = _meta_rows(store)
    rows = [{"key": f"k{i}", "value": i} for i in range(STAGE_MIN + 100)]
    assert _upsert(store, rows) == len(rows)
    assert _upsert(store, rows) == 0  # unchanged rows are skipped
    changed = [{**r, "value": r["value"] + 1} if i % 10 == 0 else r for i, r in enumerate(rows)]
    new = [{"key": f"n{i}", "value": i} for i in range(5)]
    assert _upsert(store, changed + new) == len(rows) // 10 + 5
    assert _meta_rows(store) == before | {r["key"]: r["value"] for r in changed + new}


def test_a_key_repeated_in_many_rows_is_applied_in_order(store: Store) -> None:
    rows = [{"key": f"k{i % 50}", "value": i} for i in range(STAGE_MIN + 100)]
    # Each row counts as it would alone: 50 inserts, then every later row changes its key.
    assert _upsert(store, rows) == len(rows)
    stored = _meta_rows(store)
    assert all(stored[f"k{i % 50}"] == i for i in range(len(rows) - 50, len(rows)))


def test_a_failed_batch_of_many_rows_leaves_nothing(store: Store) -> None:
    before = _meta_rows(store)
    rows = [{"key": f"k{i}", "value": i} for i in range(STAGE_MIN + 100)]

    def fail_after_the_upsert() -> None:
        with store.transaction() as conn:
            upsert(conn, _meta, rows, ["key"], ["value"])
            raise RuntimeError("after the upsert")

    with pytest.raises(RuntimeError):
        fail_after_the_upsert()
    assert _meta_rows(store) == before
    assert _upsert(store, rows) == len(rows)  # and the next batch stages as usual
