"""Pipelines and their tasks."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, tuple_

from catalog.enums import NodeKind
from catalog.records import Batch, PipelineRecord
from catalog.store import tables as t
from catalog.store.writes.common import Writer, chunks
from catalog.store.writes.labels import replace_labels
from catalog.store.writes.observations import merge_meta

_pipeline = t.Pipeline.__table__  # type: ignore[attr-defined]
_task = t.Task.__table__  # type: ignore[attr-defined]
_owner = t.Owner.__table__  # type: ignore[attr-defined]
_tag = t.Tag.__table__  # type: ignore[attr-defined]


def write_pipelines(w: Writer, b: Batch) -> None:
    def row(p: PipelineRecord) -> dict[str, Any]:
        return {
            "source_id": w.source_id,
            "external_id": p.external_id,
            "name": p.name,
            "description": p.description,
            "schedule": p.schedule,
            "schedule_active": p.schedule_active if p.schedule is not None else None,
            "paused": p.paused,
            "ui_url": p.ui_url,
            "processing_type": p.processing_type,
            "meta": dict(p.metadata),
        }

    cols = [
        "name",
        "description",
        "schedule",
        "schedule_active",
        "paused",
        "ui_url",
        "processing_type",
        "meta",
    ]
    keys = ["source_id", "external_id"]
    w.upsert(_pipeline, [row(p) for p in b.pipelines if not p.partial], keys, cols)
    # A partial record (one event's view) keeps what it does not state; metadata merges.
    partial = [row(p) for p in b.pipelines if p.partial]
    stored = _pipeline_meta(w, [r["external_id"] for r in partial])
    for r in partial:
        r["meta"] = merge_meta(stored.get(r["external_id"], {}), None, r["meta"], None)
    w.upsert(_pipeline, partial, keys, cols, keep_existing=cols[1:-1])
    wanted = {p.external_id for p in b.pipelines}
    wanted.update(x.pipeline_id for x in b.tasks)
    wanted.update(r.pipeline_id for r in b.runs)
    wanted.update(
        ref.ref
        for e in b.edges
        for ref in (e.upstream, e.downstream)
        if ref.kind is not NodeKind.ASSET
    )
    stubs = [
        {"source_id": w.source_id, "external_id": x, "name": x, "meta": {}}
        for x in sorted(wanted - {p.external_id for p in b.pipelines})
    ]
    w.upsert(_pipeline, stubs, ["source_id", "external_id"])
    for part in chunks(sorted(wanted)):
        q = select(_pipeline.c.external_id, _pipeline.c.id).where(
            _pipeline.c.source_id == w.source_id, _pipeline.c.external_id.in_(part)
        )
        w.pipelines.update({ext: pid for ext, pid in w.conn.execute(q)})
    by_id = {w.pipelines[p.external_id]: p for p in b.pipelines}
    # A partial record that states no owners or tags leaves those stored.
    owners = {i: p.owners for i, p in by_id.items() if p.owners or not p.partial}
    tags = {i: p.tags for i, p in by_id.items() if p.tags or not p.partial}
    replace_labels(w, _owner, "name", "pipeline", owners)
    replace_labels(w, _tag, "tag", "pipeline", tags)


def _pipeline_meta(w: Writer, external_ids: list[str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for part in chunks(sorted(external_ids)):
        q = select(_pipeline.c.external_id, _pipeline.c.meta).where(
            _pipeline.c.source_id == w.source_id, _pipeline.c.external_id.in_(part)
        )
        out.update({x: dict(m or {}) for x, m in w.conn.execute(q)})
    return out


def write_tasks(w: Writer, b: Batch) -> None:
    pid = w.pipelines
    rows = [
        {
            "pipeline_id": pid[x.pipeline_id],
            "external_id": x.external_id,
            "name": x.name or x.external_id,
            "kind": x.kind,
            "ui_url": x.ui_url,
            "meta": dict(x.metadata),
        }
        for x in b.tasks
    ]
    w.upsert(
        _task,
        rows,
        ["pipeline_id", "external_id"],
        ["name", "kind", "ui_url", "meta"],
        keep_existing=["kind", "ui_url"],
    )
    run_pipeline = {r.external_id: pid[r.pipeline_id] for r in b.runs}
    run_pipeline.update({ext: p for ext, (_, p) in w.runs.items()})
    wanted = {(pid[x.pipeline_id], x.external_id) for x in b.tasks}
    wanted.update((pid[x.pipeline_id], up) for x in b.tasks for up in x.upstream)
    for tr in b.task_runs:
        if tr.run_id not in run_pipeline:
            w.run(tr.run_id, f"task run {tr.task_id!r}")  # raises: an unknown run
        wanted.add((run_pipeline[tr.run_id], tr.task_id))
    wanted.update(
        (pid[ref.ref], ref.task)
        for e in b.edges
        for ref in (e.upstream, e.downstream)
        if ref.kind is NodeKind.TASK and ref.task is not None
    )
    declared = {(r["pipeline_id"], r["external_id"]) for r in rows}
    stubs = [
        {"pipeline_id": p, "external_id": x, "name": x, "meta": {}}
        for p, x in sorted(wanted - declared)
    ]
    w.upsert(_task, stubs, ["pipeline_id", "external_id"])
    for part in chunks(sorted(wanted)):
        q = select(_task.c.pipeline_id, _task.c.external_id, _task.c.id).where(
            tuple_(_task.c.pipeline_id, _task.c.external_id).in_(part)
        )
        w.tasks.update({(p, x): i for p, x, i in w.conn.execute(q)})
