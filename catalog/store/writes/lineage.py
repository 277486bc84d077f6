"""Lineage: edges between pipelines, tasks and assets, and column lineage."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Table, and_, bindparam, update
from sqlalchemy.sql.dml import UpdateBase

from catalog.enums import NodeKind
from catalog.records import Batch, EdgeRecord, NodeRef
from catalog.store import tables as t
from catalog.store.writes.common import Writer

_edge = t.LineageEdge.__table__  # type: ignore[attr-defined]
_column_lineage = t.ColumnLineage.__table__  # type: ignore[attr-defined]


def write_column_lineage(w: Writer, b: Batch) -> None:
    rows: dict[tuple[Any, ...], dict[str, Any]] = {}
    for c in b.column_lineage:
        key = (
            w.assets[c.output_uri],
            c.output_column,
            w.assets[c.input_uri],
            c.input_column,
        )
        seen = c.seen_at or w.now
        row = rows.get(key)
        if row is None or seen >= row["last_seen"]:
            first = seen if row is None else min(row["first_seen"], seen)
            rows[key] = {
                "source_id": w.source_id,
                "output_asset_id": key[0],
                "output_column": key[1],
                "input_asset_id": key[2],
                "input_column": key[3],
                "transformations": [dict(x) for x in c.transformations],
                "first_seen": first,
                "last_seen": seen,
            }
        else:
            row["first_seen"] = min(row["first_seen"], seen)
    if not rows:
        return
    keys = ["source_id", "output_asset_id", "output_column", "input_asset_id", "input_column"]
    w.upsert(_column_lineage, list(rows.values()), keys)
    # The newest observation's transformations win; first/last seen only widen.
    _widen_seen(w, _column_lineage, keys, list(rows.values()), ("transformations",))


def _widen_seen(
    w: Writer,
    table: Table,
    keys: Sequence[str],
    rows: list[dict[str, Any]],
    follow_newest: Sequence[str] = (),
) -> None:
    """Move stored first_seen back and last_seen forward to the rows' own; the columns in
    ``follow_newest`` take the value of the newest observation."""
    if not rows:
        return
    later, earlier = _widen_statements(table, tuple(keys), tuple(follow_newest))
    params = [
        {f"k_{k}": r[k] for k in keys}
        | {f"v_{c}": r[c] for c in follow_newest}
        | {"first": r["first_seen"], "last": r["last_seen"]}
        for r in rows
    ]
    w.execute_many(later, params)
    w.execute_many(earlier, params)


@lru_cache(maxsize=16)
def _widen_statements(
    table: Table, keys: tuple[str, ...], follow_newest: tuple[str, ...]
) -> tuple[UpdateBase, UpdateBase]:
    """The UPDATEs moving last_seen forward (with ``follow_newest``) and first_seen back."""
    # Parameter names must not be column names of an UPDATE's SET: hence the prefixes.
    match = and_(*(table.c[k] == bindparam(f"k_{k}") for k in keys))
    newer: dict[str, Any] = {c: bindparam(f"v_{c}") for c in follow_newest}
    later = (
        update(table)
        .where(match, table.c.last_seen < bindparam("last"))
        .values(last_seen=bindparam("last"), **newer)
    )
    earlier = (
        update(table)
        .where(match, table.c.first_seen > bindparam("first"))
        .values(first_seen=bindparam("first"))
    )
    return later, earlier


def _node(w: Writer, ref: NodeRef) -> tuple[str, int]:
    if ref.kind is NodeKind.ASSET:
        return NodeKind.ASSET.value, w.assets[ref.ref]
    if ref.kind is NodeKind.PIPELINE:
        return NodeKind.PIPELINE.value, w.pipelines[ref.ref]
    return NodeKind.TASK.value, w.tasks[(w.pipelines[ref.ref], ref.task or "")]


def write_edges(w: Writer, b: Batch) -> bool:
    edges = list(b.edges)
    edges.extend(
        EdgeRecord(
            NodeRef.of_task(x.pipeline_id, up), NodeRef.of_task(x.pipeline_id, x.external_id)
        )
        for x in b.tasks
        for up in x.upstream
    )
    rows: dict[tuple[Any, ...], dict[str, Any]] = {}
    for e in edges:
        (fk, fi), (tk, ti) = _node(w, e.upstream), _node(w, e.downstream)
        key = (e.origin.value, fk, fi, tk, ti)
        seen = e.seen_at
        row = rows.setdefault(
            key,
            {
                "source_id": w.source_id,
                "origin": key[0],
                "from_kind": fk,
                "from_id": fi,
                "to_kind": tk,
                "to_id": ti,
                "first_seen": seen or w.now,
                "last_seen": seen or w.now,
                "explicit": False,
            },
        )
        if seen is not None:
            row["first_seen"] = min(row["first_seen"], seen) if row["explicit"] else seen
            row["last_seen"] = max(row["last_seen"], seen) if row["explicit"] else seen
            row["explicit"] = True
    if not rows:
        return False
    keys = ["source_id", "origin", "from_kind", "from_id", "to_kind", "to_id"]
    new = w.upsert(
        _edge, [{k: v for k, v in r.items() if k != "explicit"} for r in rows.values()], keys
    )
    # Only an edge's own timestamps move first/last seen: re-writing a batch changes nothing.
    _widen_seen(w, _edge, keys, [r for r in rows.values() if r["explicit"]])
    return new > 0
