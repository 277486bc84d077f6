from __future__ import annotations

import weakref
from datetime import UTC, datetime, timedelta

import networkx as nx
import pytest

from catalog.enums import NodeKind
from catalog.errors import InvalidArgument
from catalog.filters import Direction
from catalog.lineage import LineageGraph
from catalog.records import Batch, EdgeRecord, NodeRef
from catalog.service import Catalog
from catalog.store.store import Store


def chain(store: Store, length: int, source: str = "s") -> None:
    """a0 -> a1 -> ... -> a{length}, plus a side branch a1 -> side."""
    sid = store.ensure_source(source, "synthetic")
    edges = [
        EdgeRecord(NodeRef.asset(f"x://a{i}"), NodeRef.asset(f"x://a{i + 1}"))
        for i in range(length)
    ]
    edges.append(EdgeRecord(NodeRef.asset("x://a1"), NodeRef.asset("x://side")))
    store.write_batch(sid, Batch(cursor={}, edges=tuple(edges)))


def asset_id(store: Store, uri: str) -> int:
    from catalog.store import reads

    with store.session() as s:
        asset = reads.read_asset_by_uri(s, uri)
        assert asset is not None
        assert asset.id is not None
        return asset.id


@pytest.fixture
def graph(store: Store) -> LineageGraph:
    chain(store, 20)
    return LineageGraph(store)


def test_downstream_is_bounded_by_depth(store: Store, graph: LineageGraph) -> None:
    start = (NodeKind.ASSET.value, asset_id(store, "x://a0"))
    result = graph.walk([start], Direction.DOWNSTREAM, 10)
    depths = sorted(n.depth for n in result.nodes)
    assert depths == [0, 1, 2, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    assert len(result.edges) == 11  # the edges among the nodes found, nothing beyond


def test_the_node_bound_keeps_the_nearest_and_says_it_cut(
    store: Store, graph: LineageGraph
) -> None:
    start = (NodeKind.ASSET.value, asset_id(store, "x://a0"))
    whole = graph.walk([start], Direction.DOWNSTREAM, 10)
    assert whole.truncated is False
    cut = graph.walk([start], Direction.DOWNSTREAM, 10, max_nodes=4)
    assert cut.truncated is True
    assert sorted(n.depth for n in cut.nodes) == [0, 1, 2, 2]  # a2 and the side branch
    kept = {(n.kind.value, n.id) for n in cut.nodes}
    assert all(e.upstream in kept and e.downstream in kept for e in cut.edges)
    assert len(cut.edges) == 3
    exact = graph.walk([start], Direction.DOWNSTREAM, 10, max_nodes=len(whole.nodes))
    assert exact.truncated is False
    catalog = Catalog(store)
    with pytest.raises(InvalidArgument, match="argument 'maxNodes': must be between 1 and"):
        catalog.lineage(start, Direction.DOWNSTREAM, 3, max_nodes=0)
    assert catalog.lineage(start, Direction.DOWNSTREAM, 10, max_nodes=2).truncated is True


def test_upstream_and_both(store: Store, graph: LineageGraph) -> None:
    side = (NodeKind.ASSET.value, asset_id(store, "x://side"))
    up = graph.walk([side], Direction.UPSTREAM, 5)
    assert sorted(n.depth for n in up.nodes) == [0, 1, 2]
    middle = (NodeKind.ASSET.value, asset_id(store, "x://a5"))
    both = graph.walk([middle], Direction.BOTH, 2)
    assert sorted(n.depth for n in both.nodes) == [0, 1, 1, 2, 2]


def test_unknown_node_is_just_itself(graph: LineageGraph) -> None:
    result = graph.walk([("asset", 10_000)], Direction.DOWNSTREAM, 3)
    assert [(n.id, n.depth) for n in result.nodes] == [(10_000, 0)]


def test_graph_is_rebuilt_only_when_lineage_changed(store: Store, graph: LineageGraph) -> None:
    first = graph.graph()
    assert graph.graph() is first  # nothing changed: the cached graph
    sid = store.source_id("s")
    store.write_batch(
        sid,
        Batch(cursor={}, edges=(EdgeRecord(NodeRef.asset("x://a1"), NodeRef.asset("x://side")),)),
    )  # known edge
    assert graph.graph() is first
    store.write_batch(
        sid,
        Batch(cursor={}, edges=(EdgeRecord(NodeRef.asset("x://side"), NodeRef.asset("x://new")),)),
    )
    assert graph.graph() is not first


def test_a_rebuild_lets_go_of_the_stale_graph_before_building_the_new_one(
    store: Store, graph: LineageGraph, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two graphs at once would double the process's peak memory over a large estate.
    before = graph.graph().number_of_edges()
    stale = weakref.ref(graph.graph())
    build, alive_during_build = graph._build, []

    def watched() -> nx.DiGraph[tuple[str, int]]:
        alive_during_build.append(stale() is not None)
        return build()

    monkeypatch.setattr(graph, "_build", watched)
    store.write_batch(
        store.ensure_source("s", "synthetic"),
        Batch(cursor={}, edges=(EdgeRecord(NodeRef.asset("x://y"), NodeRef.asset("x://z")),)),
    )
    assert graph.graph().number_of_edges() == before + 1
    assert alive_during_build == [False]


def test_two_processes_see_the_same_graph(store: Store) -> None:
    chain(store, 3)
    api_a, api_b = LineageGraph(store), LineageGraph(Store(store.url, migrate=False))
    assert api_a.graph().number_of_edges() == api_b.graph().number_of_edges() == 4
    chain(store, 6, source="other")  # written through a third connection
    assert api_a.graph().number_of_edges() == api_b.graph().number_of_edges() == 7


def test_edges_reported_by_two_sources_are_one_edge_with_both(store: Store) -> None:
    chain(store, 2, source="a")
    chain(store, 2, source="b")
    graph = LineageGraph(store).graph()
    assert graph.number_of_edges() == 3
    for _, _, data in graph.edges(data=True):
        assert len(data["edge"].sources) == 2


def test_as_of_leaves_out_edges_first_seen_later(store: Store) -> None:
    sid = store.ensure_source("s", "synthetic")
    t1 = datetime(2026, 11, 1, tzinfo=UTC)
    t2 = datetime(2026, 11, 10, tzinfo=UTC)
    early = EdgeRecord(NodeRef.asset("x://raw"), NodeRef.asset("x://clean"), seen_at=t1)
    late = EdgeRecord(NodeRef.asset("x://clean"), NodeRef.asset("x://report"), seen_at=t2)
    store.write_batch(sid, Batch(cursor={}, edges=(early, late)))
    # Seen again later: an edge keeps the first time it was seen.
    again = EdgeRecord(early.upstream, early.downstream, seen_at=t2 + timedelta(days=1))
    store.write_batch(sid, Batch(cursor={}, edges=(again,)))
    catalog = Catalog(store)
    start = (NodeKind.ASSET.value, asset_id(store, "x://raw"))

    def reached(as_of: datetime | None) -> set[int]:
        return {n.id for n in catalog.lineage(start, Direction.DOWNSTREAM, 5, as_of).nodes}

    raw, clean, report = (asset_id(store, f"x://{n}") for n in ("raw", "clean", "report"))
    assert reached(None) == {raw, clean, report}
    assert reached(t2) == {raw, clean, report}
    assert reached(t2 - timedelta(seconds=1)) == {raw, clean}
    assert reached(t1 - timedelta(seconds=1)) == {raw}
    with pytest.raises(InvalidArgument, match="asOf"):
        catalog.lineage(start, Direction.DOWNSTREAM, 5, datetime(2026, 11, 1))
