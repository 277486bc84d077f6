"""What an alert says: the condition, its owners and links, and what it means across tools.

The message is built once, when the engine decides to notify, and stored in the outbox as
JSON; every destination renders that same payload in its own format, so a retry after a
crash sends exactly what was decided.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from catalog.enums import NodeKind
from catalog.filters import Direction
from catalog.service import Catalog
from catalog.store import alert_facts as sql
from catalog.store import tables as t

__all__ = ["dedup_key", "describe_impact", "payload", "summary_lines"]

IMPACT_DEPTH = 10


def describe_impact(
    catalog: Catalog, *, run_id: int | None, asset_id: int | None, limit: int
) -> dict[str, Any]:
    """The assets and pipelines downstream, nearest first, with their tools and owners.

    For a run: what it produced or was declared to produce (depth 0) and everything downstream
    of that, in every tool. For an asset: everything downstream of it.
    """
    nodes: list[tuple[str, int, int]] = []
    if run_id is not None:
        impact = catalog.impact(run_id, depth=IMPACT_DEPTH)
        if impact is not None:
            nodes = [(str(n.kind), n.id, n.depth) for n in impact.downstream.nodes]
    elif asset_id is not None:
        found = catalog.lineage(
            (NodeKind.ASSET.value, asset_id), Direction.DOWNSTREAM, IMPACT_DEPTH
        )
        nodes = [(str(n.kind), n.id, n.depth) for n in found.nodes if n.depth > 0]
    nodes.sort(key=lambda n: (n[2], n[0], n[1]))
    asset_ids = [i for k, i, _ in nodes if k == NodeKind.ASSET.value]
    pipeline_ids = [i for k, i, _ in nodes if k == NodeKind.PIPELINE.value]
    truncated = len(asset_ids) > limit or len(pipeline_ids) > limit
    asset_ids, pipeline_ids = asset_ids[:limit], pipeline_ids[:limit]
    depth = {(k, i): d for k, i, d in nodes}
    with catalog.store.engine.connect() as conn:
        assets = sql.read_asset_facts(conn, asset_ids)
        pipelines = sql.read_pipeline_facts(conn, pipeline_ids)
    sources_of = dict(zip(asset_ids, catalog.sources_of_assets(asset_ids), strict=True))
    source_ids = sorted({s for ids in sources_of.values() for s in ids})
    sources = {
        s.id: s for s in catalog.by_ids(t.Source, source_ids) if s is not None and s.id is not None
    }
    out_assets = []
    for aid in asset_ids:
        a = assets.get(aid)
        if a is None:
            continue
        named_by = [sources[s] for s in sources_of.get(aid, []) if s in sources]
        out_assets.append(
            {
                "uri": a["uri"],
                "depth": depth[(NodeKind.ASSET.value, aid)],
                "tools": sorted({s.kind for s in named_by}),
                "sources": sorted(s.name for s in named_by),
                "owners": list(a["owners"]),
            }
        )
    out_pipelines = [
        {
            "name": p["name"],
            "tool": p["tool"],
            "source": p["source"],
            "owners": list(p["owners"]),
            "ui_url": p["ui_url"],
            "depth": depth[(NodeKind.PIPELINE.value, pid)],
        }
        for pid in pipeline_ids
        if (p := pipelines.get(pid)) is not None
    ]
    owners = sorted({o for x in (*out_assets, *out_pipelines) for o in x["owners"]})
    tools = sorted({x for a in out_assets for x in a["tools"]} | {p["tool"] for p in out_pipelines})
    return {
        "assets": out_assets,
        "pipelines": out_pipelines,
        "owners": owners,
        "tools": tools,
        "truncated": truncated,
    }


def dedup_key(rule: str, key: str, alert_id: int) -> str:
    """Stable for one incident (trigger, repeats and resolve), new for the next one."""
    return f"tempox/{rule}/{key}/{alert_id}"


def payload(
    *,
    alert_id: int,
    rule: str,
    kind: str,
    key: str,
    severity: str,
    title: str,
    action: str,
    count: int,
    started_at: datetime,
    at: datetime,
    details: dict[str, Any],
    public_url: str | None,
) -> dict[str, Any]:
    """The notification as the outbox keeps it and every destination reads it."""
    resolved = action == "resolve"
    body = {
        "id": alert_id,
        "dedup_key": dedup_key(rule, key, alert_id),
        "rule": rule,
        "kind": kind,
        "key": key,
        "severity": severity,
        "status": "resolved" if resolved else "firing",
        "action": action,
        "title": ("Resolved: " if resolved else "") + title,
        "count": count,
        "started_at": started_at.isoformat(),
        "at": at.isoformat(),
        "resolved_at": at.isoformat() if resolved else None,
        "link": f"{public_url}/graphql" if public_url else None,
        **details,
    }
    body["summary"] = " ".join(summary_lines(body)[:1])
    return body


def summary_lines(p: dict[str, Any]) -> list[str]:
    """The alert in a few plain lines: what, the error, who owns it, what it affects."""
    lines = [str(p["title"])]
    run = p.get("run")
    if run and run.get("error"):
        lines.append(f"Error: {run['error']}")
    sync = p.get("sync")
    if sync and sync.get("error"):
        lines.append(f"Error: {sync['error']}")
    if p.get("owners"):
        lines.append(f"Owners: {', '.join(p['owners'])}")
    impact = p.get("impact") or {}
    assets = impact.get("assets") or []
    if assets:
        tools = ", ".join(impact.get("tools") or []) or "no tool"
        lines.append(f"Downstream: {len(assets)} assets in {tools}")
        for a in assets:
            who = ", ".join(a["owners"]) or "no owner"
            lines.append(f"  {a['uri']} ({', '.join(a['tools']) or '?'}; owners: {who})")
        if impact.get("truncated"):
            lines.append("  … and more")
    return lines
