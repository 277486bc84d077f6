"""Reading assets by the names sources give them (aliases)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from catalog.identity import SYMLINK
from catalog.store import tables as t

_alias = t.table(t.AssetAlias)
_asset = t.table(t.Asset)


def read_symlinks(conn: Connection, source_id: int, names: Iterable[str]) -> dict[str, str]:
    """Of ``names``, those the source declared as symlinks: name -> the asset's URI."""
    out: dict[str, str] = {}
    wanted = sorted(set(names))
    for part in (wanted[i : i + 900] for i in range(0, len(wanted), 900)):
        q = (
            select(_alias.c.alias, _asset.c.uri)
            .join(_asset, _asset.c.id == _alias.c.asset_id)
            .where(
                _alias.c.source_id == source_id,
                _alias.c.reason == SYMLINK,
                _alias.c.alias.in_(part),
            )
        )
        out.update({a: u for a, u in conn.execute(q)})
    return out


def read_asset_by_alias(session: Session, names: Iterable[str]) -> t.Asset | None:
    """The asset some source names by one of ``names`` (the oldest asset, if sources differ)."""
    q = (
        select(t.Asset)
        .join(t.AssetAlias, t.AssetAlias.asset_id == t.Asset.id)  # type: ignore[arg-type]
        .where(t.AssetAlias.alias.in_(sorted(set(names))))  # type: ignore[attr-defined]
        .order_by(t.Asset.id)  # type: ignore[arg-type]
    )
    return session.scalars(q).first()
