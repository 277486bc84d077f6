"""Pages of runs and assets read together with the rows their answers show.

The API asks for a page and, in the same session, for what the client's selection needs of
each item (a run's pipeline, its owners and source; an asset's owners, tags and aliases): a
fixed number of statements per page, and one trip to a worker thread instead of one per
relation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from catalog.enums import NodeKind
from catalog.filters import AssetFilter, RunFilter
from catalog.lineage import LineageResult
from catalog.pagination import Page, PageRequest
from catalog.store import node_rows, reads, related, rows
from catalog.store import tables as t
from catalog.store.node_rows import NodeRows
from catalog.store.related import Related
from catalog.store.rows import AssetRows, RunRows
from catalog.store.store import Store

R = TypeVar("R")

__all__ = ["AssetRows", "Listed", "Listing", "NodeRows", "Related", "RunRows"]


@dataclass(frozen=True, slots=True)
class Listed(Generic[R]):
    page: Page[R]
    total: int | None  # None: not asked for
    related: Related


class Listing:
    def __init__(self, store: Store) -> None:
        self.store = store

    def runs(
        self,
        f: RunFilter,
        page: PageRequest,
        *,
        count: bool = False,
        pipelines: bool = False,
        owners: bool = False,
        sources: bool = False,
        run_owners: bool = False,
    ) -> Listed[t.Run]:
        with self.store.session() as s:
            found = reads.read_runs(s, f, page)
            total = reads.count_runs(s, f) if count else None
            rel = related.related_of_runs(
                s,
                found.items,
                pipelines=pipelines,
                owners=owners,
                sources=sources,
                run_owners=run_owners,
            )
        return Listed(found, total, rel)

    def assets(
        self,
        f: AssetFilter,
        page: PageRequest,
        *,
        count: bool = False,
        owners: bool = False,
        tags: bool = False,
        aliases: bool = False,
    ) -> Listed[t.Asset]:
        with self.store.session() as s:
            found = reads.read_assets(s, f, page)
            total = reads.count_assets(s, f) if count else None
            rel = related.related_of_assets(
                s, found.items, owners=owners, tags=tags, aliases=aliases
            )
        return Listed(found, total, rel)

    def of_lineage(self, result: LineageResult) -> Related:
        """A lineage answer's entities, the sources knowing each node, the edges' sources."""
        ids: dict[NodeKind, list[int]] = {kind: [] for kind in NodeKind}
        for node in result.nodes:
            ids[NodeKind(node.kind)].append(node.id)
        edge_sources = sorted({s for e in result.edges for s in e.sources})
        with self.store.session() as s:
            return related.related_of_nodes(
                s,
                ids[NodeKind.ASSET],
                ids[NodeKind.PIPELINE],
                ids[NodeKind.TASK],
                edge_sources,
            )

    # -- as plain rows (the API's compiled operations, api.direct) ----------------------------

    def run_rows(
        self, f: RunFilter, page: PageRequest, *, count: bool = False, owners: bool = False
    ) -> RunRows:
        """A page of runs with their pipelines and sources, as rows; ``owners``: the
        pipelines' owners and the runs' own."""
        st = self.store.statements
        with st.cursor() as cursor:
            return rows.read_run_rows(st, cursor, f, page, count=count, owners=owners)

    def asset_rows(self, f: AssetFilter, page: PageRequest, *, count: bool = False) -> AssetRows:
        """A page of assets with their owners, tags and aliases, as rows."""
        st = self.store.statements
        with st.cursor() as cursor:
            return rows.read_asset_rows(st, cursor, f, page, count=count)

    def asset_id(self, uri: str) -> int | None:
        """What :meth:`catalog.service.Catalog.asset` finds, its id alone."""
        identity, _ = self.store.identity.resolve(uri)
        st = self.store.statements
        with st.cursor() as cursor:
            return node_rows.read_asset_id(st, cursor, identity, [uri, identity])

    def lineage_rows(self, result: LineageResult) -> NodeRows:
        """What :meth:`of_lineage` reads, as rows."""
        ids: dict[NodeKind, list[int]] = {kind: [] for kind in NodeKind}
        for node in result.nodes:
            ids[NodeKind(node.kind)].append(node.id)
        edge_sources = sorted({s for e in result.edges for s in e.sources})
        st = self.store.statements
        with st.cursor() as cursor:
            return node_rows.read_node_rows(
                st, cursor, ids[NodeKind.ASSET], ids[NodeKind.PIPELINE], ids[NodeKind.TASK],
                edge_sources,
            )  # fmt: skip
