"""Lineage: ``Catalog.lineage`` downstream to depth 10 against raw networkx on the same graph."""

from __future__ import annotations

import random
from typing import Any

import networkx as nx

from benchmarks.timing import interleaved
from catalog.enums import NodeKind
from catalog.filters import Direction
from catalog.service import Catalog

DEPTH = 10


def bench_lineage(catalog: Catalog, *, samples: int = 20, seed: int = 1) -> dict[str, Any]:
    graph = catalog.lineage_graph.graph()
    assets = [n for n in graph if n[0] == NodeKind.ASSET.value and graph.out_degree(n)]
    # Start from the assets with the largest downstream, where the cost shows.
    random.Random(seed).shuffle(assets)
    starts = sorted(
        assets[: samples * 10], key=lambda n: -len(nx.descendants_at_distance(graph, n, 2))
    )[:samples]

    def ours() -> None:
        for node in starts:
            catalog.lineage(node, Direction.DOWNSTREAM, DEPTH)

    def raw() -> None:
        # The same answer: nodes within DEPTH hops with their distance, and the edges among them.
        for node in starts:
            found = nx.single_source_shortest_path_length(graph, node, cutoff=DEPTH)
            list(graph.subgraph(found).edges(data=True))

    reached = sum(
        len(nx.single_source_shortest_path_length(graph, n, cutoff=DEPTH)) for n in starts
    ) / max(len(starts), 1)
    ours_s, raw_s = interleaved(ours, raw, rounds=5, repeat=3)
    return {
        "graph_nodes": graph.number_of_nodes(),
        "graph_edges": graph.number_of_edges(),
        "starts": len(starts),
        "mean_nodes_reached": round(reached, 1),
        "tempox_ms_per_query": ours_s / len(starts) * 1000,
        "networkx_ms_per_query": raw_s / len(starts) * 1000,
        "ratio": ours_s / raw_s,
    }
