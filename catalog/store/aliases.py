"""Reading assets by the names sources give them (aliases)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, bindparam, select
from sqlalchemy.orm import Session

from catalog.identity import SYMLINK
from catalog.records import Batch
from catalog.store import tables as t
from catalog.store.bulk import upsert
from catalog.store.prepared import select_rows
from catalog.store.values import in_values

_alias = t.table(t.AssetAlias)
_asset = t.table(t.Asset)
_link = t.table(t.AssetLink)
_source = t.table(t.Source)


def read_symlinks(conn: Connection, source_id: int, names: Iterable[str]) -> dict[str, str]:
    """Of ``names``, those the source declared as symlinks: name -> the asset's URI."""
    wanted = list(set(names))
    if not wanted:
        return {}
    return dict(select_rows(conn, _symlinks, ids=wanted, source=source_id))


def _symlinks() -> Select[Any]:
    return (
        select(_alias.c.alias, _asset.c.uri)
        .join(_asset, _asset.c.id == _alias.c.asset_id)
        .where(
            _alias.c.source_id == bindparam("source"),
            _alias.c.reason == SYMLINK,
            in_values(_alias.c.alias, key="ids"),
        )
    )


def read_asset_by_alias(session: Session, names: Iterable[str]) -> t.Asset | None:
    """The asset some source names by one of ``names`` (the oldest asset, if sources differ)."""
    q = (
        select(t.Asset)
        .join(t.AssetAlias, t.AssetAlias.asset_id == t.Asset.id)  # type: ignore[arg-type]
        .where(t.AssetAlias.alias.in_(sorted(set(names))))  # type: ignore[attr-defined]
        .order_by(t.Asset.id)  # type: ignore[arg-type]
    )
    return session.scalars(q).first()


def link_symlinked(conn: Connection, source_id: int, batch: Batch, now: datetime) -> int:
    """Link each asset that a symlink of ``batch`` names to the asset the symlink is of.

    A reference by a symlink's name before the source declared the symlink made an asset of its
    own, with its events and edges; linked as the same (reason ``symlink``), lineage crosses
    between the two. Returns the number of links made."""
    declared = {a.alias: a.uri for a in batch.assets if a.alias and a.alias_reason == SYMLINK}
    if not declared:
        return 0
    ids: dict[str, int] = {}
    names = sorted({*declared, *declared.values()})
    for part in (names[i : i + 900] for i in range(0, len(names), 900)):
        q = select(_asset.c.uri, _asset.c.id).where(_asset.c.uri.in_(part))
        ids.update({u: i for u, i in conn.execute(q)})
    pairs = {
        tuple(sorted((ids[alias], ids[uri])))
        for alias, uri in declared.items()
        if alias in ids and uri in ids and ids[alias] != ids[uri]
    }
    if not pairs:
        return 0
    name = conn.execute(select(_source.c.name).where(_source.c.id == source_id)).scalar_one()
    rows = [
        {
            "asset_id": low,
            "other_id": high,
            "reason": SYMLINK,
            "linked_by": f"source {name}",
            "linked_at": now,
            "note": "a symlink of the one is the name of the other",
        }
        for low, high in sorted(pairs)
    ]
    return upsert(conn, _link, rows, ["asset_id", "other_id"])
