"""The lineage graph: assets, tasks and pipelines of every source in one networkx DiGraph.

Built from the store's edges and cached per process. The store keeps a ``lineage_version`` that
every write adding an edge bumps in the same transaction, so each query costs one indexed
read to learn whether the cache is still right, and several API processes agree on the graph.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import networkx as nx

from catalog.enums import EdgeOrigin, NodeKind
from catalog.filters import Direction
from catalog.store import reads
from catalog.store.store import Store
from catalog.store.versions import LINEAGE_VERSION

Node = tuple[str, int]  # (NodeKind value, catalog id)

MAX_DEPTH = 50
MAX_NODES = 10_000  # the most nodes one answer holds; the nearest are kept
DEFAULT_NODES = 1_000
_KINDS = {k.value: k for k in NodeKind}
ASSET = NodeKind.ASSET.value


@dataclass(frozen=True, slots=True)
class LineageNode:
    kind: NodeKind
    id: int
    depth: int  # hops from the nearest start node; 0 for the start itself


@dataclass(frozen=True, slots=True)
class LineageEdge:
    upstream: Node
    downstream: Node
    sources: tuple[int, ...]  # source ids that reported the edge
    origins: tuple[str, ...]
    # Who linked the two assets by hand (principals: ``token:<name>``, ``oidc:<sub>`` …): the
    # source of a LINKED edge, which no orchestrator reported.
    linked_by: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LineageResult:
    nodes: list[LineageNode]
    edges: list[LineageEdge]
    truncated: bool = False  # more nodes were within reach than the bound let through


class LineageGraph:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._lock = threading.Lock()
        # The version a graph was built at and the graph, swapped as one: a reader never pairs
        # one graph with another's version.
        self._built: tuple[int, nx.DiGraph[Node]] = (-1, nx.DiGraph())

    @property
    def version(self) -> int:
        return self._built[0]

    def graph(self) -> nx.DiGraph[Node]:
        current = self._store.version(LINEAGE_VERSION)
        seen = self._built
        if current == seen[0]:
            return seen[1]
        with self._lock:
            built = self._built
            # Another reader built it while this one waited, at this version or a later one
            # (the counter only grows).
            if built is not seen and built[0] >= current:
                return built[1]
            # The stale graph goes first: keeping it until the new one is built doubled the
            # process's peak (the graph of 100k assets is ~130 MiB). Readers wait on the lock.
            self._built = (-1, nx.DiGraph())
            del seen, built
            # A networkx graph refers to itself (the views it caches): only the cycle
            # collector frees it, and it would not run before the new graph was half built.
            gc.collect()
            graph = self._build()
            self._built = (current, graph)
            return graph

    def _build(self) -> nx.DiGraph[Node]:
        # The graph of a large estate (100k assets, 185k edges) is most of the API process's
        # memory, so each edge keeps only its answer and when it was first seen (for ``as_of``),
        # and every node key, tuple of ids and time exists once however many edges share it.
        graph: nx.DiGraph[Node] = nx.DiGraph()
        shared = _Shared()
        with self._store.session() as session:
            for fk, fi, tk, ti, source_id, origin, first in reads.read_edges(session):
                u, v = shared.node(fk, fi), shared.node(tk, ti)
                shared.add(graph, u, v, first, sources=(source_id,), origins=(origin,))
            # Two assets linked by hand are one thing seen twice: lineage crosses both ways.
            for link in reads.read_links(session):
                a, b = shared.node(ASSET, link.asset_id), shared.node(ASSET, link.other_id)
                for u, v in ((a, b), (b, a)):
                    shared.add(
                        graph,
                        u,
                        v,
                        link.linked_at,
                        origins=(EdgeOrigin.LINKED.value,),
                        linked_by=(link.linked_by,),
                        keep_first_seen=True,
                    )
        return graph

    def walk(
        self,
        starts: Iterable[Node],
        direction: Direction,
        depth: int,
        as_of: datetime | None = None,
        max_nodes: int = MAX_NODES,
    ) -> LineageResult:
        """Every node within ``depth`` hops of ``starts``, and the edges between them; with
        ``as_of``, only edges first seen by then: the graph as it stood at that time. At most
        ``max_nodes`` nodes, the nearest first (``truncated`` says whether any were left out),
        so one answer's size is bounded whatever the graph."""
        graph = self.graph()
        if as_of is not None:
            graph = self._as_of(graph, as_of)
        found: dict[Node, int] = {}
        for start in starts:
            found.setdefault(start, 0)
            if start not in graph:
                continue
            views = []
            if direction in (Direction.DOWNSTREAM, Direction.BOTH):
                views.append(graph)
            if direction in (Direction.UPSTREAM, Direction.BOTH):
                views.append(graph.reverse(copy=False))
            for view in views:
                lengths = nx.single_source_shortest_path_length(view, start, cutoff=depth)
                if len(found) == 1:
                    found.update(lengths)  # the common case: nothing to merge yet
                    continue
                for node, hops in lengths.items():
                    if hops < found.get(node, hops + 1):
                        found[node] = hops
        truncated = len(found) > max_nodes
        if truncated:
            kept = sorted(found.items(), key=lambda item: (item[1], item[0]))[:max_nodes]
            found = dict(kept)
        among = graph.subgraph(found).edges(data=True)
        edges: list[LineageEdge] = [data["edge"] for _, _, data in among]
        nodes = [LineageNode(_KINDS[k], i, d) for (k, i), d in found.items()]
        nodes.sort(key=lambda n: (n.depth, n.kind, n.id))
        return LineageResult(nodes, edges, truncated)

    @staticmethod
    def _as_of(graph: nx.DiGraph[Node], as_of: datetime) -> nx.DiGraph[Node]:
        def existed(u: Node, v: Node) -> bool:
            first: datetime = graph[u][v]["first_seen"]
            return first <= as_of

        view: nx.DiGraph[Node] = nx.subgraph_view(graph, filter_edge=existed)
        return view

    def successors(self, nodes: Iterable[Node]) -> set[Node]:
        graph = self.graph()
        return {s for n in nodes if n in graph for s in graph.successors(n)}


class _Shared:
    """One instance of each node key, tuple of ids and time the graph holds, and the edges'
    answers built from them: reported by several sources, an edge is merged as it comes."""

    def __init__(self) -> None:
        self._nodes: dict[Node, Node] = {}
        self._values: dict[Any, Any] = {}

    def node(self, kind: str, id: int) -> Node:
        node = (_KINDS[kind].value, id)
        return self._nodes.setdefault(node, node)

    def _one(self, value: Any) -> Any:
        return self._values.setdefault(value, value)

    def add(
        self,
        graph: nx.DiGraph[Node],
        u: Node,
        v: Node,
        first_seen: datetime,
        *,
        sources: tuple[int, ...] = (),
        origins: tuple[str, ...] = (),
        linked_by: tuple[str, ...] = (),
        keep_first_seen: bool = False,
    ) -> None:
        """The edge u → v, or what it adds to the one already there: its ids, and its time
        when earlier (``keep_first_seen``: the edge already there keeps its own, as a link
        between assets an edge already joins does)."""
        data: dict[str, Any] | None = graph.get_edge_data(u, v)
        if data is not None:
            known: LineageEdge = data["edge"]
            sources = tuple(sorted({*known.sources, *sources}))
            origins = tuple(sorted({*known.origins, *origins}))
            linked_by = tuple(sorted({*known.linked_by, *linked_by}))
            earlier = data["first_seen"] if keep_first_seen else min(data["first_seen"], first_seen)
            first_seen = earlier
        edge = LineageEdge(u, v, self._one(sources), self._one(origins), self._one(linked_by))
        if data is None:
            graph.add_edge(u, v, edge=edge, first_seen=self._one(first_seen))
        else:
            data["edge"], data["first_seen"] = edge, self._one(first_seen)
