"""A lineage answer's nodes as plain rows: the entities, and the sources that know them.

As :mod:`catalog.store.rows` does for pages: what ``related.related_of_nodes`` reads, through
prepared statements (:mod:`catalog.store.prepared`), in three statements for most graphs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from sqlalchemy import Select, bindparam, select, union

from catalog.enums import NodeKind
from catalog.store import tables as t
from catalog.store.prepared import Cursor, Statements, padded
from catalog.store.rows import ALIAS, ASSET, EDGE, PIPELINE, SOURCE, TASK
from catalog.store.writes import chunks

__all__ = ["NodeRows", "read_asset_id", "read_node_rows"]


@dataclass(frozen=True, slots=True)
class NodeRows:
    assets: dict[int, str]  # uri
    pipelines: dict[int, tuple[str, int]]  # (name, source id)
    tasks: dict[int, tuple[str, int]]  # (name, pipeline id)
    sources: dict[int, tuple[str, str]]  # (name, kind)
    sources_of_assets: dict[int, list[int]]


def read_asset_id(
    st: Statements, cursor: Cursor, identity: str, names: Sequence[str]
) -> int | None:
    """The asset whose identity is ``identity``, else the oldest one a source names by one of
    ``names`` (as ``reads.read_asset_by_uri``, then ``aliases.read_asset_by_alias``)."""
    found = st.get("asset_id", lambda: select(ASSET.id).where(ASSET.uri == bindparam("uri"))).rows(
        cursor, {"uri": identity}
    )
    if found:
        return int(found[0][0])
    some = padded(sorted(set(names)))
    v = {f"n_{i}": n for i, n in enumerate(some)}

    def by_alias() -> Select[Any]:
        return (
            select(ASSET.id)
            .join(t.table(t.AssetAlias), ALIAS.asset_id == ASSET.id)
            .where(ALIAS.alias.in_([bindparam(f"n_{i}") for i in range(len(some))]))
            .order_by(ASSET.id)
            .limit(1)
        )

    found = st.get(("asset_id_by_alias", len(some)), by_alias).rows(cursor, v)
    return int(found[0][0]) if found else None


# -- lineage nodes ----------------------------------------------------------------------------

CHUNK = 512


def _built(build: Callable[[list[Any]], Select[Any]], n: int) -> Select[Any]:
    return build([bindparam(f"i_{i}") for i in range(n)])


def _by_ids(
    st: Statements,
    cursor: Cursor,
    name: str,
    ids: Sequence[int],
    build: Callable[[list[Any]], Select[Any]],
) -> list[Any]:
    """``build``'s rows for ``ids``, one statement per chunk, its ``IN`` list padded."""
    rows: list[Any] = []
    for part in chunks(sorted(set(ids)), CHUNK):
        some = padded(list(part))
        v = {f"i_{i}": x for i, x in enumerate(some)}
        rows += st.get((name, len(some)), partial(_built, build, len(some))).rows(cursor, v)
    return rows


def read_node_rows(
    st: Statements,
    cursor: Cursor,
    assets: Sequence[int],
    pipelines: Sequence[int],
    tasks: Sequence[int],
    edge_sources: Sequence[int],
) -> NodeRows:
    """A lineage graph's entities, the sources that know each node (as
    ``reads.read_sources_of_assets``), and the edges' sources: the sources come joined to
    the nodes' rows, and are read alone only for an edge whose source no node names."""
    found_tasks: dict[int, tuple[str, int]] = {}
    found_pipelines: dict[int, tuple[str, int]] = {}
    sources: dict[int, tuple[str, str]] = {}
    source = t.table(t.Source)
    if tasks:
        for ident, name, pipeline, pipeline_name, source_id, source_name, kind in _by_ids(
            st,
            cursor,
            "node_tasks",
            tasks,
            lambda b: select(
                TASK.id, TASK.name, PIPELINE.id, PIPELINE.name, SOURCE.id, SOURCE.name,
                SOURCE.kind,
            )
            .join(t.table(t.Pipeline), PIPELINE.id == TASK.pipeline_id)
            .join(source, SOURCE.id == PIPELINE.source_id)
            .where(TASK.id.in_(b)),
        ):  # fmt: skip
            found_tasks[ident] = (name, pipeline)
            found_pipelines[pipeline] = (pipeline_name, source_id)
            sources[source_id] = (source_name, kind)
    if pipelines:
        for ident, name, source_id, source_name, kind in _by_ids(
            st,
            cursor,
            "node_pipelines",
            pipelines,
            lambda b: select(
                PIPELINE.id, PIPELINE.name, SOURCE.id, SOURCE.name, SOURCE.kind
            )
            .join(source, SOURCE.id == PIPELINE.source_id)
            .where(PIPELINE.id.in_(b)),
        ):  # fmt: skip
            found_pipelines[ident] = (name, source_id)
            sources[source_id] = (source_name, kind)
    uris: dict[int, str] = {}
    of_assets: dict[int, list[int]] = {i: [] for i in sorted(set(assets))}
    if assets:
        uris = dict(
            _by_ids(
                st,
                cursor,
                "node_assets",
                assets,
                lambda b: select(ASSET.id, ASSET.uri).where(ASSET.id.in_(b)),
            )
        )
        known = _by_ids(st, cursor, "node_asset_sources", assets, _asset_sources)
        for asset_id, source_id, source_name, kind in sorted(set(known)):
            of_assets[asset_id].append(source_id)
            sources[source_id] = (source_name, kind)
    missing = sorted({i for i in edge_sources if i not in sources})
    if missing:
        for ident, name, kind in _by_ids(
            st,
            cursor,
            "node_sources",
            missing,
            lambda b: select(SOURCE.id, SOURCE.name, SOURCE.kind).where(SOURCE.id.in_(b)),
        ):
            sources[ident] = (name, kind)
    return NodeRows(uris, found_pipelines, found_tasks, sources, of_assets)


def _asset_sources(binds: list[Any]) -> Select[Any]:
    # Who knows each asset: the sources naming it, and those reporting an edge to or from it.
    asset = NodeKind.ASSET.value
    knows = union(
        select(ALIAS.asset_id.label("asset_id"), ALIAS.source_id.label("source_id")).where(
            ALIAS.asset_id.in_(binds)
        ),
        select(EDGE.from_id, EDGE.source_id).where(
            EDGE.from_kind == asset, EDGE.from_id.in_(binds)
        ),
        select(EDGE.to_id, EDGE.source_id).where(EDGE.to_kind == asset, EDGE.to_id.in_(binds)),
    ).subquery()
    return select(knows.c.asset_id, knows.c.source_id, SOURCE.name, SOURCE.kind).join(
        t.table(t.Source), SOURCE.id == knows.c.source_id
    )
