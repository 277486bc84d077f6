"""The OpenLineage compatibility corpus, and what a catalog should hold after ingesting it.

``tests/fixtures/openlineage`` is a copy of the public OpenLineage consumer compatibility corpus
(Apache-2.0; its LICENSE and SOURCE.md say where it comes from), kept in the repository so a clean
clone anywhere runs the conformance tests.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import select

from catalog.store import tables as t
from catalog.store.store import Store

CORPUS = Path(__file__).resolve().parent / "fixtures" / "openlineage"
SCENARIOS = CORPUS / "scenarios"
NAMES = sorted(p.name for p in SCENARIOS.iterdir() if (p / "events").is_dir())


def events(scenario: str) -> list[dict[str, Any]]:
    files = sorted((SCENARIOS / scenario / "events").glob("*.json"))
    return [json.loads(f.read_text(encoding="utf-8")) for f in files]


def state(store: Store) -> dict[str, Any]:
    """What the catalog derived: pipelines, tasks, runs and task runs with their state,
    datasets, and dataset-to-dataset links (an input and an output of the same job)."""
    with store.session() as s:
        pipelines = {p.id: p.external_id for p in s.scalars(select(t.Pipeline))}
        tasks = {x.id: x.external_id for x in s.scalars(select(t.Task))}
        runs = {
            r.external_id: (pipelines[r.pipeline_id], r.status, r.started_at, r.ended_at, r.error)
            for r in s.scalars(select(t.Run))
        }
        run_ext = {r.id: r.external_id for r in s.scalars(select(t.Run))}
        task_runs = {
            (run_ext[x.run_id], tasks[x.task_id], x.attempt, x.external_id): (
                x.status,
                x.started_at,
                x.ended_at,
            )
            for x in s.scalars(select(t.TaskRun))
        }
        assets = {a.id: a.uri for a in s.scalars(select(t.Asset))}
        edges = list(s.scalars(select(t.LineageEdge)))
        columns = {
            (assets[c.input_asset_id], c.input_column, assets[c.output_asset_id], c.output_column)
            for c in s.scalars(select(t.ColumnLineage))
        }
        events = {
            (assets[e.asset_id], e.kind, e.at, e.row_count) for e in s.scalars(select(t.AssetEvent))
        }
    reads: dict[tuple[str, int], set[str]] = {}
    writes: dict[tuple[str, int], set[str]] = {}
    for e in edges:
        if e.from_kind == "asset":
            reads.setdefault((e.to_kind, e.to_id), set()).add(assets[e.from_id])
        if e.to_kind == "asset":
            writes.setdefault((e.from_kind, e.from_id), set()).add(assets[e.to_id])
    links = {(a, b) for job, outs in writes.items() for b in outs for a in reads.get(job, ())}
    return {
        "pipelines": sorted(pipelines.values()),
        "tasks": sorted(tasks.values()),
        "runs": runs,
        "task_runs": task_runs,
        "assets": sorted(assets.values()),
        "links": links,
        "columns": columns,
        "asset_events": events,
    }
