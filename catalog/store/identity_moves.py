"""Moving what references assets when identities change: events, checks, lineage edges,
column lineage, hand links, aliases and labels. Used by :mod:`catalog.store.identity_apply`,
inside its transaction."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Table,
    and_,
    bindparam,
    delete,
    false,
    or_,
    select,
    update,
)

from catalog.reresolve import Pair
from catalog.store import tables as t
from catalog.store.writes import chunks

_asset = t.table(t.Asset)
_alias = t.table(t.AssetAlias)
_event = t.table(t.AssetEvent)
_check = t.table(t.CheckResult)
_edge = t.table(t.LineageEdge)
_column = t.table(t.ColumnLineage)
_link = t.table(t.AssetLink)
_owner = t.table(t.Owner)
_tag = t.table(t.Tag)

ASSET = "asset"
_PARKED = "~tempox-reresolve~"  # a key no source makes: where moving rows wait their turn


def move_keyed(
    conn: Connection, table: Table, key: str, moves: dict[Pair, tuple[str, str, int]]
) -> tuple[int, int]:
    """Move an asset's events (or check results) of each source to its new asset, their keys
    re-spelled under the new identity; rows that now coincide with another of the same source
    are one. ``moves``: (asset id, source id) → (old identity, new identity, new asset id).
    Returns (rows moved, duplicates dropped)."""
    movers: dict[int, tuple[int, str, int]] = {}  # row id → (source, new key, new asset)
    respelled: set[int] = set()
    for (asset_id, source_id), (old, new, new_id) in sorted(moves.items()):
        q = select(table.c.id, table.c[key]).where(
            table.c.asset_id == asset_id, table.c.source_id == source_id
        )
        for row_id, stored in conn.execute(q):
            movers[row_id] = (source_id, respell(stored, old, new), new_id)
            if movers[row_id][1] != stored:
                respelled.add(row_id)
    if not movers:
        return 0, 0
    groups: dict[tuple[int, str], list[int]] = defaultdict(list)
    for row_id, (source_id, new_key, _) in movers.items():
        groups[(source_id, new_key)].append(row_id)
    stayers: dict[tuple[int, str], int] = {}
    by_source: dict[int, list[str]] = defaultdict(list)
    for source_id, new_key in groups:
        by_source[source_id].append(new_key)
    for source_id, keys in by_source.items():
        for part in chunks(sorted(keys)):
            q = select(table.c.id, table.c[key]).where(
                table.c.source_id == source_id, table.c[key].in_(part)
            )
            for row_id, stored in conn.execute(q):
                if row_id not in movers:
                    stayers[(source_id, stored)] = row_id
    # One row per key, as a fresh sync writes it: the row already under the new identity (a
    # sync wrote it after the rules changed), else the newest of the moving ones.
    drop: list[int] = []
    for group_key, ids in groups.items():
        keep = None if group_key in stayers else max(ids)
        drop += [i for i in ids if i != keep]
    for gone in chunks(sorted(drop)):
        conn.execute(delete(table).where(table.c.id.in_(gone)))
    moving = sorted(set(movers) - set(drop))
    # Re-spelled keys are parked first: a row may take the key another moving row still holds.
    parked = [{"i": i, "k": f"{_PARKED}{i}"} for i in moving if i in respelled]
    if parked:
        conn.execute(
            update(table).where(table.c.id == bindparam("i")).values({key: bindparam("k")}),
            parked,
        )
    if moving:
        conn.execute(
            update(table)
            .where(table.c.id == bindparam("i"))
            .values({key: bindparam("k"), "asset_id": bindparam("a")}),
            [{"i": i, "k": movers[i][1], "a": movers[i][2]} for i in moving],
        )
    return len(moving), len(drop)


def respell(stored_key: str, old: str, new: str) -> str:
    """A key derived from the asset's identity (``identity|kind|time|…``, see
    :meth:`catalog.records.AssetEventRecord.key`), derived again from the new one; a tool's
    own id is kept as it is."""
    prefix = f"{old}|"
    return f"{new}|{stored_key[len(prefix) :]}" if stored_key.startswith(prefix) else stored_key


def _touching(table: Table, ends: Iterable[tuple[str, str | None]], ids: set[int]) -> Any:
    """Rows of ``table`` one of whose asset ends (id column, kind column) is in ``ids``."""
    conditions: list[ColumnElement[bool]] = [false()]
    for part in chunks(sorted(ids)):
        for id_col, kind_col in ends:
            condition: ColumnElement[bool] = table.c[id_col].in_(part)
            if kind_col is not None:
                condition = and_(table.c[kind_col] == ASSET, condition)
            conditions.append(condition)
    return select(table).where(or_(*conditions))


def _regroup(
    conn: Connection,
    table: Table,
    rows: list[dict[str, Any]],
    remap: Callable[[dict[str, Any]], dict[str, Any] | None],
    keys: tuple[str, ...],
    merge: Callable[[list[dict[str, Any]]], dict[str, Any]],
) -> int:
    """Re-key ``rows`` with ``remap`` (None: the row goes); rows that now share ``keys`` are
    merged into one. Changed groups are deleted and written again. Returns the rows changed."""
    groups: dict[tuple[Any, ...], list[tuple[dict[str, Any], dict[str, Any]]]] = defaultdict(list)
    gone: list[int] = []
    for row in rows:
        new = remap(row)
        if new is None:
            gone.append(row["id"])
        else:
            groups[tuple(new[k] for k in keys)].append((row, new))
    fresh: list[dict[str, Any]] = []
    for members in groups.values():
        if len(members) == 1 and members[0][0] == members[0][1]:
            continue
        gone += [old["id"] for old, _ in members]
        merged = merge([new for _, new in members])
        fresh.append({k: v for k, v in merged.items() if k != "id"})
    for part in chunks(sorted(gone)):
        conn.execute(delete(table).where(table.c.id.in_(part)))
    if fresh:
        conn.execute(table.insert(), fresh)
    return len(gone)


def _seen(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """One row for observations that now coincide: seen from the first to the last, and
    what the newest said."""
    newest = max(rows, key=lambda r: (r["last_seen"], r["id"]))
    return newest | {
        "first_seen": min(r["first_seen"] for r in rows),
        "last_seen": newest["last_seen"],
    }


def move_edges(conn: Connection, moves: dict[Pair, int], ids: set[int]) -> int:
    """Lineage edges re-pointed: an asset end of a source goes where ``moves`` (asset id,
    source id) → asset id says; edges that now coincide are one."""
    rows = [dict(r._mapping) for r in conn.execute(_touching(_edge, _EDGE_ENDS, ids))]

    def remap(row: dict[str, Any]) -> dict[str, Any] | None:
        out = dict(row)
        for id_col, kind_col in _EDGE_ENDS:
            if row[kind_col] == ASSET:
                out[id_col] = moves.get((row[id_col], row["source_id"]), row[id_col])
        return out

    keys = ("source_id", "origin", "from_kind", "from_id", "to_kind", "to_id")
    return _regroup(conn, _edge, rows, remap, keys, _seen)


_EDGE_ENDS = (("from_id", "from_kind"), ("to_id", "to_kind"))


def move_column_lineage(conn: Connection, moves: dict[Pair, int], ids: set[int]) -> int:
    ends = (("output_asset_id", None), ("input_asset_id", None))
    rows = [dict(r._mapping) for r in conn.execute(_touching(_column, ends, ids))]

    def remap(row: dict[str, Any]) -> dict[str, Any] | None:
        out = dict(row)
        for id_col, _ in ends:
            out[id_col] = moves.get((row[id_col], row["source_id"]), row[id_col])
        return out

    keys = ("source_id", "output_asset_id", "output_column", "input_asset_id", "input_column")
    return _regroup(conn, _column, rows, remap, keys, _seen)


def move_links(conn: Connection, primary: dict[int, int], ids: set[int]) -> int:
    """Hand links follow each asset's own data (``primary``: asset id → asset id); a link
    whose two ends are now one asset is gone, two that now coincide are one."""
    ends = (("asset_id", None), ("other_id", None))
    rows = [dict(r._mapping) for r in conn.execute(_touching(_link, ends, ids))]

    def remap(row: dict[str, Any]) -> dict[str, Any] | None:
        a = primary.get(row["asset_id"], row["asset_id"])
        b = primary.get(row["other_id"], row["other_id"])
        if a == b:
            return None
        low, high = sorted((a, b))
        return row | {"asset_id": low, "other_id": high}

    def latest(rows: list[dict[str, Any]]) -> dict[str, Any]:
        return max(rows, key=lambda r: (r["linked_at"], r["id"]))

    return _regroup(conn, _link, rows, remap, ("asset_id", "other_id"), latest)


def write_aliases(
    conn: Connection, wanted: dict[tuple[int, str], tuple[int, str | None]]
) -> tuple[int, int]:
    """Make the alias table exactly ``wanted``: (source id, alias) → (asset id, reason).
    Returns (rows written, rows removed)."""
    have = {
        (s, a): (i, r)
        for i, s, a, r in conn.execute(
            select(_alias.c.asset_id, _alias.c.source_id, _alias.c.alias, _alias.c.reason)
        )
    }
    gone = [k for k in have if k not in wanted]
    for source_id, alias in gone:
        conn.execute(delete(_alias).where(_alias.c.source_id == source_id, _alias.c.alias == alias))
    changed = [
        {"s": s, "a": a, "i": i, "r": r}
        for (s, a), (i, r) in wanted.items()
        if (s, a) in have and have[(s, a)] != (i, r)
    ]
    if changed:
        conn.execute(
            update(_alias)
            .where(_alias.c.source_id == bindparam("s"), _alias.c.alias == bindparam("a"))
            .values(asset_id=bindparam("i"), reason=bindparam("r")),
            changed,
        )
    new = [
        {"source_id": s, "alias": a, "asset_id": i, "reason": r}
        for (s, a), (i, r) in sorted(wanted.items())
        if (s, a) not in have
    ]
    if new:
        conn.execute(_alias.insert(), new)
    return len(changed) + len(new), len(gone)


def read_labels(conn: Connection, ids: set[int]) -> dict[int, tuple[set[str], set[str]]]:
    """Asset id → (owners, tags)."""
    out: dict[int, tuple[set[str], set[str]]] = {i: (set(), set()) for i in ids}
    for n, (table, column) in enumerate(((_owner, "name"), (_tag, "tag"))):
        for part in chunks(sorted(ids)):
            q = select(table.c.entity_id, table.c[column]).where(
                table.c.entity_kind == ASSET, table.c.entity_id.in_(part)
            )
            for i, value in conn.execute(q):
                out[i][n].add(value)
    return out


def write_labels(conn: Connection, wanted: dict[int, tuple[set[str], set[str]]]) -> None:
    """Make the owners and tags of the assets in ``wanted`` exactly these."""
    have = read_labels(conn, set(wanted))
    for n, (table, column) in enumerate(((_owner, "name"), (_tag, "tag"))):
        for i, labels in wanted.items():
            old = have[i][n]
            for value in sorted(old - labels[n]):
                conn.execute(
                    delete(table).where(
                        table.c.entity_kind == ASSET,
                        table.c.entity_id == i,
                        table.c[column] == value,
                    )
                )
            added = sorted(labels[n] - old)
            new = [{"entity_kind": ASSET, "entity_id": i, column: v} for v in added]
            if new:
                conn.execute(table.insert(), new)
