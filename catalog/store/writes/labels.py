"""Owners and tags of pipelines, runs and assets."""

from __future__ import annotations

from sqlalchemy import Table, delete, select, tuple_

from catalog.store.writes.common import Writer, chunks


def replace_labels(
    w: Writer, table: Table, column: str, kind: str, wanted: dict[int, tuple[str, ...]]
) -> None:
    """Make each entity's labels exactly ``wanted``, touching only rows that differ."""
    if not wanted:
        return
    have: set[tuple[int, str]] = set()
    for ids in chunks(sorted(wanted)):
        q = select(table.c.entity_id, table.c[column]).where(
            table.c.entity_kind == kind, table.c.entity_id.in_(ids)
        )
        have.update((i, v) for i, v in w.conn.execute(q))
    want = {(i, v) for i, values in wanted.items() for v in values}
    for part in chunks(sorted(have - want)):
        w.execute(
            delete(table).where(
                table.c.entity_kind == kind,
                tuple_(table.c.entity_id, table.c[column]).in_(part),
            )
        )
    new = [{"entity_kind": kind, "entity_id": i, column: v} for i, v in sorted(want - have)]
    if new:
        w.execute(table.insert(), new)
