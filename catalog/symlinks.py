"""Symlinks: other names a source declares for the same dataset (an OpenLineage ``symlinks``
facet names the table over a path). A reference by such a name, from that source, is the asset
itself: its events, checks, column lineage and edges land on it, not on an asset of their own."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from catalog.enums import NodeKind
from catalog.identity import SYMLINK
from catalog.records import AssetRecord, Batch, EdgeRecord, NodeRef


def referenced(batch: Batch) -> set[str]:
    """Every asset URI a batch refers to (alias records' own names aside)."""
    uris = {a.uri for a in batch.assets}
    uris.update(e.asset_uri for e in batch.asset_events)
    uris.update(c.asset_uri for c in batch.check_results)
    uris.update(u for c in batch.column_lineage for u in (c.output_uri, c.input_uri))
    uris.update(
        ref.ref
        for e in batch.edges
        for ref in (e.upstream, e.downstream)
        if ref.kind is NodeKind.ASSET
    )
    return uris


def resolve_symlinks(batch: Batch, stored: Mapping[str, str]) -> Batch:
    """``batch`` with references by a symlink (``stored``: symlink -> asset, as the source
    declared before; the batch's own declarations win) resolved to the asset. One level only:
    a symlink whose asset is itself a symlink is left alone, so a cycle resolves to nothing."""
    targets = dict(stored)
    targets.update({a.alias: a.uri for a in batch.assets if a.alias and a.alias_reason == SYMLINK})
    targets = {s: u for s, u in targets.items() if u not in targets and s != u}
    if not targets or not (referenced(batch) & targets.keys()):
        return batch

    def uri(u: str) -> str:
        return targets.get(u, u)

    def node(n: NodeRef) -> NodeRef:
        return replace(n, ref=uri(n.ref)) if n.kind is NodeKind.ASSET else n

    assets: list[AssetRecord] = []
    for a in batch.assets:
        target = targets.get(a.uri)
        if target is not None:
            # What the source said under the symlink's name describes the asset; the name stays
            # its alias.
            a = (
                replace(a, uri=target)
                if a.alias
                else replace(a, uri=target, alias=a.uri, alias_reason=SYMLINK)
            )
        assets.append(a)
    return replace(
        batch,
        assets=tuple(assets),
        asset_events=tuple(replace(e, asset_uri=uri(e.asset_uri)) for e in batch.asset_events),
        check_results=tuple(replace(c, asset_uri=uri(c.asset_uri)) for c in batch.check_results),
        column_lineage=tuple(
            replace(c, output_uri=uri(c.output_uri), input_uri=uri(c.input_uri))
            for c in batch.column_lineage
        ),
        edges=tuple(
            EdgeRecord(node(e.upstream), node(e.downstream), e.origin, e.seen_at)
            for e in batch.edges
        ),
    )
