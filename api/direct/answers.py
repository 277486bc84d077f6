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
from catalog.listing import NodeRows
from catalog.pagination import Page, PageRequest
from catalog.service import is_stale

__all__ = ["ANSWERS"]

Data = dict[str, Any]


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


# Stored values to the names the schema shows.
STATUS = {s.value: s.name for s in RunStatus}
TRIGGER = {k.value: k.name for k in TriggerKind}
KIND = {k.value: k for k in NodeKind}
ORIGIN = {o.value: o.name for o in EdgeOrigin}


def _page_info(page: Page[Any]) -> Data:
    return {"hasNextPage": page.has_next, "endCursor": page.end_cursor}


def failed_runs(v: Data, ctx: Context) -> Data:
    c = ctx.catalog
    f = c.failed_runs_filter(v.get("since"), v.get("until") or ctx.now)
    listed = c.listing.run_rows(f, PageRequest(v["first"], v.get("after")), count=True, owners=True)
    owners, own = listed.owners, listed.run_owners
    nodes = []
    for run in listed.page.items:
        of_pipeline = owners.get(run.pipeline_id, [])
        nodes.append(
            {
                "id": str(run.id),
                "externalId": run.external_id,
                "status": STATUS[run.status],
                "startedAt": _time(run.started_at),
                "error": run.error,
                "uiUrl": run.ui_url,
                # The run's own owners, then its pipeline's (as Run.owners resolves).
                "owners": list(dict.fromkeys([*own.get(run.id, []), *of_pipeline])),
                "pipeline": {
                    "name": run.pipeline_name,
                    "owners": of_pipeline,
                    "source": {"name": run.source_name, "kind": run.source_kind},
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
    listed = ctx.catalog.listing.run_rows(f, PageRequest(v["first"], v.get("after")), count=True)
    edges = []
    for run, cursor in zip(listed.page.items, listed.page.cursors, strict=True):
        node = {
            "id": str(run.id),
            "externalId": run.external_id,
            "status": STATUS[run.status],
            "rawStatus": run.raw_status,
            "trigger": TRIGGER[run.trigger],
            "startedAt": _time(run.started_at),
            "durationSeconds": run.duration_s,
            "error": run.error,
            "pipeline": {"name": run.pipeline_name, "source": {"name": run.source_name}},
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
    listed = ctx.catalog.listing.asset_rows(
        given.to_filter(), PageRequest(v["first"], v.get("after")), count=True
    )
    now = ctx.now
    nodes = []
    for asset in listed.page.items:
        ident = asset.id
        nodes.append(
            {
                "id": str(ident),
                "uri": asset.uri,
                "kind": asset.kind,
                "owners": listed.owners.get(ident, []),
                "tags": listed.tags.get(ident, []),
                "aliases": [
                    {"alias": alias, "source": {"name": source}}
                    for alias, source in listed.aliases.get(ident, [])
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
        found = ctx.catalog.listing.asset_id(str(given["asset"]))
        return None if found is None else (NodeKind.ASSET.value, found)
    return None  # a pipeline or a task: the general executor looks it up


def _names(rel: NodeRows, source_ids: Sequence[int], pick: int) -> list[str]:
    return sorted({rel.sources[i][pick] for i in source_ids if i in rel.sources})


def lineage(v: Data, ctx: Context) -> Data | None:
    start = _start(v["node"], ctx)
    if start is None:
        return None  # NotFound, worded by the general executor
    result = ctx.catalog.lineage(start, v["direction"], v["depth"], v.get("asOf"), DEFAULT_NODES)
    rel = ctx.catalog.listing.lineage_rows(result)
    nodes = []
    for node in result.nodes:
        kind = KIND[node.kind]
        entity: Data
        if kind is NodeKind.ASSET:
            entity = {"uri": rel.assets[node.id]}
            sources = rel.sources_of_assets.get(node.id, [])
        elif kind is NodeKind.PIPELINE:
            name, source = rel.pipelines[node.id]
            entity, sources = {"name": name}, [source]
        else:
            name, pipeline_id = rel.tasks[node.id]
            pipeline, source = rel.pipelines[pipeline_id]
            entity = {"name": name, "pipeline": {"name": pipeline}}
            sources = [source]
        nodes.append(
            {
                "id": f"{kind}:{node.id}",
                "kind": kind.name,
                "depth": node.depth,
                "sources": _names(rel, sources, 0),
                "tools": _names(rel, sources, 1),
                "entity": entity,
            }
        )
    edges = [
        {
            "upstream": {"id": f"{e.upstream[0]}:{e.upstream[1]}"},
            "downstream": {"id": f"{e.downstream[0]}:{e.downstream[1]}"},
            "origins": [ORIGIN[o] for o in e.origins],
            # Who says so: the sources that reported it, then who linked it by hand.
            "sources": [*_names(rel, e.sources, 0), *e.linked_by],
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
