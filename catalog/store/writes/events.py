"""Asset events (materialisations, observations, consumptions); when assets were last made."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, Table, or_, select

from catalog.enums import AssetEventKind
from catalog.records import AssetEventRecord
from catalog.store import tables as t
from catalog.store.values import in_values
from catalog.store.writes.assets import refresh_staleness
from catalog.store.writes.common import Writer

_task = t.Task.__table__  # type: ignore[attr-defined]
_task_run = t.TaskRun.__table__  # type: ignore[attr-defined]
_asset = t.Asset.__table__  # type: ignore[attr-defined]
_event = t.AssetEvent.__table__  # type: ignore[attr-defined]


def _later(asset: Table, incoming: Any) -> ColumnElement[bool]:
    stored = asset.c.last_produced_at
    return or_(stored.is_(None), stored < incoming.last_produced_at)


def write_asset_events(w: Writer, events: Sequence[AssetEventRecord]) -> None:
    task_runs = _task_runs_for(w, events)
    runs, assets, source_id = w.runs, w.assets, w.source_id
    produced = AssetEventKind.PRODUCED
    rows = []
    latest: dict[int, datetime] = {}
    for e in events:
        run_ext = e.run_id
        run_id: int | None
        tr_id: int | None
        if run_ext:
            found = runs.get(run_ext)
            run_id = (found or w.run(run_ext, f"asset event on {e.asset_uri!r}"))[0]
            tr_id = task_runs.get((run_ext, e.task_id, e.attempt)) if e.task_id else None
        else:
            run_id = tr_id = None
        asset_id = assets[e.asset_uri]
        kind = e.kind
        rows.append(
            {
                "source_id": source_id,
                "event_key": e.key(),
                "asset_id": asset_id,
                "kind": kind.value,
                "at": e.at,
                "run_id": run_id,
                "task_run_id": tr_id,
                "row_count": e.row_count,
                "meta": dict(e.metadata),
            }
        )
        if kind is produced:
            at = latest.get(asset_id)
            latest[asset_id] = e.at if at is None else max(e.at, at)
    keys = ["source_id", "event_key"]
    w.upsert(_event, rows, keys, [c for c in rows[0] if c not in keys] if rows else [])
    if latest:
        w.update_rows(_asset, ("id", "last_produced_at"), list(latest.items()), _later)
        refresh_staleness(w, list(latest))


def _task_runs_for(
    w: Writer, events: Sequence[AssetEventRecord]
) -> dict[tuple[str, str, int | None], int]:
    """Task run ids for events that name a task; without an attempt, the latest one."""
    wanted = {(e.run_id, e.task_id, e.attempt) for e in events if e.run_id and e.task_id}
    if not wanted:
        return {}
    run_ids = {w.run(run_ext or "", "asset event")[0] for run_ext, _, _ in wanted}
    _load_tasks(w, {(w.runs[run_ext or ""][1], task_ext or "") for run_ext, task_ext, _ in wanted})
    # Of each (run, task): the task run of each attempt, and the latest attempt's. Several
    # task runs may share an attempt (mapped tasks): the last one made stands for them.
    by_attempt: dict[tuple[int, int, int], int] = {}
    latest: dict[tuple[int, int], tuple[int, int]] = {}
    for r, tk, att, i in w.rows(_task_runs_of_runs, run_ids):
        key = (r, tk, att)
        if by_attempt.get(key, -1) < i:
            by_attempt[key] = i
        found = latest.get((r, tk))
        if found is None or found < (att, i):
            latest[(r, tk)] = (att, i)
    out = {}
    for run_ext, task_ext, attempt in wanted:
        run_id, pipeline_id = w.runs[run_ext or ""]
        task_id = w.tasks.get((pipeline_id, task_ext or ""))
        if task_id is None:
            continue
        if attempt is None:
            last = latest.get((run_id, task_id))
            tr_id = None if last is None else last[1]
        else:
            tr_id = by_attempt.get((run_id, task_id, attempt))
        if tr_id is not None:
            out[(run_ext, task_ext, attempt)] = tr_id
    return out


def _load_tasks(w: Writer, named: set[tuple[int, str]]) -> None:
    """Ids of the tasks events name that this batch has not met: the events may come in a
    later batch than their task runs (a run's materialisations read after it finished)."""
    missing = named - w.tasks.keys()
    if missing:
        pipelines = {p for p, _ in missing}
        w.tasks.update(((p, x), i) for p, x, i in w.rows(_tasks_of_pipelines, pipelines))


def _tasks_of_pipelines() -> Select[Any]:
    return select(_task.c.pipeline_id, _task.c.external_id, _task.c.id).where(
        in_values(_task.c.pipeline_id, key="ids")
    )


def _task_runs_of_runs() -> Select[Any]:
    return select(
        _task_run.c.run_id, _task_run.c.task_id, _task_run.c.attempt, _task_run.c.id
    ).where(in_values(_task_run.c.run_id, key="ids"))
