"""The answers of the compiled operations, built from rows: one function per document.

Each mirrors its document in ``graphql/operations/`` field for field, in the document's order,
and serialises as the schema does (IDs as strings, enums by name, date-times in ISO 8601).
A function returns None to hand the request to the general executor.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from api.schema.context import Context
from api.schema.inputs import AssetFilter, RunFilter
from catalog.enums import EdgeOrigin, NodeKind, RunStatus, TriggerKind
from catalog.lineage import DEFAULT_NODES, Node
from catalog.pagination import Page, PageRequest
from catalog.service import is_stale
from catalog.store import tables as t
from catalog.store.related import Related

__all__ = ["ANSWERS"]

Data = dict[str, Any]


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _page_info(page: Page[Any]) -> Data:
    return {"hasNextPage": page.has_next, "endCursor": page.end_cursor}


def failed_runs(v: Data, ctx: Context) -> Data:
    c = ctx.catalog
    f = c.failed_runs_filter(v.get("since"), v.get("until") or ctx.now)
    listed = c.listing.runs(
        f, PageRequest(v["first"], v.get("after")), count=True, pipelines=True, owners=True,
        sources=True, run_owners=True,
    )  # fmt: skip
    rel = listed.related
    nodes = []
    for run in listed.page.items:
        pipeline = rel.pipelines[run.pipeline_id]
        source = rel.sources[pipeline.source_id]
        nodes.append(
            {
                "id": str(run.id),
                "externalId": run.external_id,
                "status": RunStatus(run.status).name,
                "startedAt": _time(run.started_at),
                "error": run.error,
                "uiUrl": run.ui_url,
                # The run's own owners, then its pipeline's (as Run.owners resolves).
                "owners": list(
                    dict.fromkeys(
                        [*rel.run_owners.get(run.id or 0, []), *rel.owners.get(run.pipeline_id, [])]
                    )
                ),
                "pipeline": {
                    "name": pipeline.name,
                    "owners": rel.owners.get(run.pipeline_id, []),
                    "source": {"name": source.name, "kind": source.kind},
                },
            }
        )
    return {
        "failedRuns": {
            "totalCount": listed.total,
            "pageInfo": _page_info(listed.page),
            "nodes": nodes,
        }
    }


def _run_filter(given: Data | None) -> RunFilter:
    g = given or {}
    return RunFilter(
        status=g.get("status"),
        trigger=g.get("trigger"),
        source=g.get("source"),
        pipeline=g.get("pipeline"),
        owner=g.get("owner"),
        tag=g.get("tag"),
        since=g.get("since"),
        until=g.get("until"),
    )


def runs(v: Data, ctx: Context) -> Data:
    f = _run_filter(v.get("filter")).to_filter()
    listed = ctx.catalog.listing.runs(
        f, PageRequest(v["first"], v.get("after")), count=True, pipelines=True, sources=True
    )
    rel = listed.related
    edges = []
    for run, cursor in zip(listed.page.items, listed.page.cursors, strict=True):
        pipeline = rel.pipelines[run.pipeline_id]
        node = {
            "id": str(run.id),
            "externalId": run.external_id,
            "status": RunStatus(run.status).name,
            "rawStatus": run.raw_status,
            "trigger": TriggerKind(run.trigger).name,
            "startedAt": _time(run.started_at),
            "durationSeconds": run.duration_s,
            "error": run.error,
            "pipeline": {
                "name": pipeline.name,
                "source": {"name": rel.sources[pipeline.source_id].name},
            },
        }
        edges.append({"cursor": cursor, "node": node})
    return {
        "runs": {"totalCount": listed.total, "pageInfo": _page_info(listed.page), "edges": edges}
    }


def assets(v: Data, ctx: Context) -> Data:
    g = v.get("filter") or {}
    given = AssetFilter(
        owner=g.get("owner"), tag=g.get("tag"), uri_prefix=g.get("uriPrefix"),
        search=g.get("search"),
    )  # fmt: skip
    listed = ctx.catalog.listing.assets(
        given.to_filter(), PageRequest(v["first"], v.get("after")), count=True, owners=True,
        tags=True, aliases=True,
    )  # fmt: skip
    rel, now = listed.related, ctx.now
    nodes = []
    for asset in listed.page.items:
        ident = asset.id
        assert ident is not None
        nodes.append(
            {
                "id": str(ident),
                "uri": asset.uri,
                "kind": asset.kind,
                "owners": rel.owners.get(ident, []),
                "tags": rel.tags.get(ident, []),
                "aliases": [
                    {"alias": a.alias, "source": {"name": rel.sources[a.source_id].name}}
                    for a in rel.aliases.get(ident, [])
                ],
                "freshness": {
                    "maxAgeSeconds": asset.freshness_max_age_s,
                    "lastProducedAt": _time(asset.last_produced_at),
                    "isStale": is_stale(asset, now),
                },
            }
        )
    return {
        "assets": {"totalCount": listed.total, "pageInfo": _page_info(listed.page), "nodes": nodes}
    }


def _start(given: Data, ctx: Context) -> Node | None:
    if given.get("asset") is not None:
        asset = ctx.catalog.asset(str(given["asset"]))
        return None if asset is None or asset.id is None else (NodeKind.ASSET.value, asset.id)
    return None  # a pipeline or a task: the general executor looks it up


def _names(rel: Related, source_ids: Sequence[int], pick: Callable[[t.Source], str]) -> list[str]:
    return sorted({pick(rel.sources[i]) for i in source_ids if i in rel.sources})


def lineage(v: Data, ctx: Context) -> Data | None:
    start = _start(v["node"], ctx)
    if start is None:
        return None  # NotFound, worded by the general executor
    result = ctx.catalog.lineage(start, v["direction"], v["depth"], v.get("asOf"), DEFAULT_NODES)
    rel = ctx.catalog.listing.of_lineage(result)
    nodes = []
    for node in result.nodes:
        kind = NodeKind(node.kind)
        entity: Data
        if kind is NodeKind.ASSET:
            entity = {"uri": rel.assets[node.id].uri}
            sources = rel.sources_of_assets.get(node.id, [])
        elif kind is NodeKind.PIPELINE:
            pipeline = rel.pipelines[node.id]
            entity, sources = {"name": pipeline.name}, [pipeline.source_id]
        else:
            task = rel.tasks[node.id]
            pipeline = rel.pipelines[task.pipeline_id]
            entity = {"name": task.name, "pipeline": {"name": pipeline.name}}
            sources = [pipeline.source_id]
        nodes.append(
            {
                "id": f"{kind}:{node.id}",
                "kind": kind.name,
                "depth": node.depth,
                "sources": _names(rel, sources, lambda s: s.name),
                "tools": _names(rel, sources, lambda s: s.kind),
                "entity": entity,
            }
        )
    edges = [
        {
            "upstream": {"id": f"{e.upstream[0]}:{e.upstream[1]}"},
            "downstream": {"id": f"{e.downstream[0]}:{e.downstream[1]}"},
            "origins": [EdgeOrigin(o).name for o in e.origins],
            # Who says so: the sources that reported it, then who linked it by hand.
            "sources": [*_names(rel, e.sources, lambda s: s.name), *e.linked_by],
        }
        for e in result.edges
    ]
    return {"lineage": {"__typename": "LineageGraph", "nodes": nodes, "edges": edges}}


ANSWERS: dict[str, Callable[[Data, Context], Data | None]] = {
    "FailedRuns": failed_runs,
    "Runs": runs,
    "Assets": assets,
    "Lineage": lineage,
}
