"""Every row of every catalog table by its natural key, not its id: two catalogs that hold the
same things (written in another order, with other ids) compare equal, table by table."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import Connection, Table, select
from sqlmodel import SQLModel

from catalog.store.store import Store

# Bookkeeping, not contents: when syncs ran, counters, the fingerprint, who did what.
SKIP = ("sync_state", "meta", "catalog_state", "audit_event", "api_token")
# The columns a row is referred to by, in the order tables are read.
REFERRED_BY = {
    "source": ("name",),
    "pipeline": ("source_id", "external_id"),
    "task": ("pipeline_id", "external_id"),
    "run": ("source_id", "external_id"),
    "task_run": ("run_id", "task_id", "attempt", "map_index", "external_id"),
    "asset": ("uri",),
}
# Columns that name a row of the table their neighbour column names.
BY_KIND = {
    "lineage_edge": (("from_id", "from_kind"), ("to_id", "to_kind")),
    "owner": (("entity_id", "entity_kind"),),
    "tag": (("entity_id", "entity_kind"),),
}


def natural_snapshot(
    store: Store, *, ignore: dict[str, tuple[str, ...]] | None = None
) -> dict[str, Counter[str]]:
    """Table name → its rows (every column but the id, references by natural key)."""
    ignore = ignore or {}
    tables = SQLModel.metadata.tables
    keys: dict[str, dict[int, tuple[Any, ...]]] = {}
    out: dict[str, Counter[str]] = {}
    with store.engine.connect() as conn:
        for name, columns in REFERRED_BY.items():
            rows = _rows(conn, tables[name])
            keys[name] = {
                r["id"]: tuple(_value(keys, tables[name], r, c) for c in columns) for r in rows
            }
        for name, table in sorted(tables.items()):
            if name in SKIP:
                continue
            out[name] = Counter()
            for r in _rows(conn, table):
                row = {
                    c: _value(keys, table, r, c)
                    for c in r
                    if c != "id" and c not in ignore.get(name, ())
                }
                for id_col, kind_col in BY_KIND.get(name, ()):
                    row[id_col] = keys[r[kind_col]][r[id_col]]
                if name == "asset_link":  # a pair, stored lower id first: ids are not kept
                    row["asset_id"], row["other_id"] = sorted((row["asset_id"], row["other_id"]))
                out[name][repr(sorted(row.items()))] += 1
    return out


def _rows(conn: Connection, table: Table) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in conn.execute(select(table))]


def _value(
    keys: dict[str, dict[int, tuple[Any, ...]]], table: Table, row: dict[str, Any], column: str
) -> Any:
    value = row[column]
    for fk in table.c[column].foreign_keys:
        if value is not None:
            return keys[fk.column.table.name][value]
    return value


def differences(a: dict[str, Counter[str]], b: dict[str, Counter[str]]) -> dict[str, Any]:
    """Per table, the rows only one side has (empty: equal)."""
    out = {}
    for name in sorted(set(a) | set(b)):
        left, right = a.get(name, Counter()), b.get(name, Counter())
        if left != right:
            out[name] = {
                "only left": sorted((left - right).elements()),
                "only right": sorted((right - left).elements()),
            }
    return out
