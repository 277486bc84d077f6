"""Assets: descriptions merged across sources, aliases, owners, tags and staleness."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import Select, and_, or_, select

from catalog import freshness
from catalog.errors import AdapterError
from catalog.freshness import InvalidPolicy, check_policy
from catalog.records import AssetRecord, Batch
from catalog.store import tables as t
from catalog.store.values import in_values
from catalog.store.writes.common import Writer
from catalog.store.writes.labels import replace_labels
from catalog.symlinks import referenced

_asset = t.Asset.__table__  # type: ignore[attr-defined]
_alias = t.AssetAlias.__table__  # type: ignore[attr-defined]
_owner = t.Owner.__table__  # type: ignore[attr-defined]
_tag = t.Tag.__table__  # type: ignore[attr-defined]


def write_assets(w: Writer, b: Batch) -> None:
    def row(a: AssetRecord, with_meta: bool) -> dict[str, Any]:
        r: dict[str, Any] = {
            "uri": a.uri,
            "kind": a.kind,
            "description": a.description,
            "freshness_max_age_s": a.freshness_max_age_s,
            "freshness_cron": a.freshness_cron,
            "freshness_timezone": a.freshness_timezone,
        }
        if with_meta:
            r["meta"] = dict(a.metadata)
        return r

    # One row per asset: a batch may name an asset twice (a source's record and the
    # spellings it was met under); the first record says what the asset is.
    first: dict[str, AssetRecord] = {}
    for a in b.assets:
        first.setdefault(a.uri, a)
    for a in first.values():
        try:
            check_policy(a.freshness_max_age_s, a.freshness_cron, a.freshness_timezone)
        except InvalidPolicy as exc:
            raise AdapterError(f"asset {a.uri!r}: freshness policy: {exc}") from None
    # Rows are created in the batch's order first: ids follow what the source reported.
    w.upsert(_asset, [{"uri": u, "meta": {}} for u in first], ["uri"])
    # Metadata is merged, not replaced: each tool describes the asset under its own keys,
    # and a sync that repeats what is stored changes nothing. Read after the rows exist,
    # so that the read locks them.
    stored = _asset_meta(w, [u for u, a in first.items() if a.metadata])
    described = [
        replace(a, metadata={**stored.get(a.uri, {}), **a.metadata}) if a.metadata else a
        for a in first.values()
    ]
    # Several sources describe the same asset; one that knows less keeps what others said.
    # A freshness policy is one thing: a source that states one replaces all of it.
    scalar = ["kind", "description"]
    policy = ["freshness_max_age_s", "freshness_cron", "freshness_timezone"]
    for with_meta in (True, False):
        for with_policy in (True, False):
            group = [
                row(a, with_meta) | ({} if with_meta else {"meta": {}})
                for a in described
                if bool(a.metadata) is with_meta
                and (a.freshness_max_age_s is not None) is with_policy
            ]
            if not with_policy:
                group = [{k: v for k, v in r.items() if k not in policy} for r in group]
            w.upsert(
                _asset,
                group,
                ["uri"],
                [*scalar, *(policy if with_policy else ()), *(["meta"] if with_meta else [])],
                keep_existing=scalar,
            )
    # Most references are to assets stored already: look those up, create only the others.
    wanted = referenced(b)
    w.assets.update(w.rows(_asset_ids, wanted))
    missing = sorted(wanted - w.assets.keys())
    w.upsert(_asset, [{"uri": u, "meta": {}} for u in missing], ["uri"])
    w.assets.update(w.rows(_asset_ids, missing))
    aliases: dict[str, dict[str, Any]] = {}
    for a in b.assets:
        if a.alias:
            aliases.setdefault(
                a.alias,
                {
                    "asset_id": w.assets[a.uri],
                    "source_id": w.source_id,
                    "alias": a.alias,
                    "reason": a.alias_reason,
                },
            )
    w.upsert(_alias, list(aliases.values()), ["source_id", "alias"], ["asset_id", "reason"])
    by_id = {w.assets[a.uri]: a for a in described}
    # Several tools describe one asset and most know no owners or tags for it: a record
    # that states none leaves what another source said.
    owners = {i: a.owners for i, a in by_id.items() if a.owners}
    replace_labels(w, _owner, "name", "asset", owners)
    replace_labels(w, _tag, "tag", "asset", {i: a.tags for i, a in by_id.items() if a.tags})
    if any(a.freshness_max_age_s is not None for a in b.assets):
        refresh_staleness(w, list(by_id))


def _asset_meta(w: Writer, uris: list[str]) -> dict[str, dict[str, Any]]:
    if not uris:
        return {}
    # Locked until this batch commits: two sources syncing at once describe the same
    # asset, and a merge from a stale read would drop the other's keys. (SQLite holds
    # the database's write lock already; it has no row locks to take.)
    q = select(_asset.c.uri, _asset.c.meta).where(in_values(_asset.c.uri, uris))
    q = q.order_by(_asset.c.uri).with_for_update()
    return {u: dict(m or {}) for u, m in w.conn.execute(q).all()}


def refresh_staleness(w: Writer, asset_ids: list[int]) -> None:
    changes = []
    for i, last, max_age, cron, zone, stale_after in w.rows(_staleness, asset_ids):
        new = freshness.stale_after(last, max_age, cron, zone)
        if new != stale_after:
            changes.append((i, new))
    w.update_rows(_asset, ("id", "stale_after"), changes)


def _asset_ids() -> Select[Any]:
    return select(_asset.c.uri, _asset.c.id).where(in_values(_asset.c.uri, key="ids"))


def _staleness() -> Select[Any]:
    return select(
        _asset.c.id,
        _asset.c.last_produced_at,
        _asset.c.freshness_max_age_s,
        _asset.c.freshness_cron,
        _asset.c.freshness_timezone,
        _asset.c.stale_after,
    ).where(
        in_values(_asset.c.id, key="ids"),
        # Without a policy or a production an asset is never stale: only rows with
        # both, or with a stale time to clear, can change.
        or_(
            _asset.c.stale_after.is_not(None),
            and_(
                _asset.c.freshness_max_age_s.is_not(None),
                _asset.c.last_produced_at.is_not(None),
            ),
        ),
    )
