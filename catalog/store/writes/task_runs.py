"""Task runs: upserts guarded by observation time, their metadata accumulating."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from catalog.records import Batch
from catalog.store import tables as t
from catalog.store.values import in_values
from catalog.store.writes.common import Writer
from catalog.store.writes.observations import (
    GUARDED,
    KEEP_TIMES,
    duration_of,
    fold_observations,
    merge_meta,
)
from catalog.store.writes.runs import fix_derived_times

_task_run = t.TaskRun.__table__  # type: ignore[attr-defined]


def write_task_runs(w: Writer, b: Batch) -> None:
    rows: list[dict[str, Any]] = []
    for tr in b.task_runs:
        run_id, pipeline_id = w.run(tr.run_id, f"task run {tr.task_id!r}")
        rows.append(
            {
                "run_id": run_id,
                "task_id": w.tasks[(pipeline_id, tr.task_id)],
                "attempt": tr.attempt,
                "map_index": tr.map_index,
                "external_id": tr.external_id,
                "status": tr.status.value,
                "raw_status": tr.raw_status,
                "queued_at": tr.queued_at,
                "started_at": tr.started_at,
                "ended_at": tr.ended_at,
                "duration_s": duration_of(tr.duration_s, tr.started_at, tr.ended_at),
                "error": tr.error,
                "log_url": tr.log_url,
                "meta": dict(tr.metadata),
                "status_at": tr.status_at,
            }
        )
    keys = ["run_id", "task_id", "attempt", "map_index", "external_id"]
    rows = fold_observations(rows, keys)
    # Observed records (events) describe a run piecemeal: their metadata accumulates. A bare
    # record in the same batch (a parent run named by its child) must not wipe it either.
    observed = rows if w.observing else []
    if observed:
        stored: dict[tuple[Any, ...], tuple[Any, Any, int]] = {}
        q = select(
            *(_task_run.c[k] for k in keys),
            _task_run.c.meta,
            _task_run.c.status_at,
            _task_run.c.id,
        ).where(in_values(_task_run.c.run_id, {r["run_id"] for r in observed}))
        for row in w.conn.execute(q).all():
            stored[tuple(row[: len(keys)])] = (row.meta, row.status_at, row.id)
        for r in observed:
            if (found := stored.get(tuple(r[k] for k in keys))) is not None:
                r["meta"] = merge_meta(found[0] or {}, found[1], r["meta"], r["status_at"])
    cols = [c for c in rows[0] if c not in keys] if rows else []
    w.upsert(
        _task_run,
        rows,
        keys,
        cols,
        keep_existing=KEEP_TIMES,
        guarded=GUARDED,
        guard_by="status_at",
    )
    if observed:
        q = select(*(_task_run.c[k] for k in keys), _task_run.c.id).where(
            in_values(_task_run.c.run_id, {r["run_id"] for r in observed})
        )
        wanted = {tuple(r[k] for k in keys) for r in observed}
        ids = [row.id for row in w.conn.execute(q).all() if tuple(row[: len(keys)]) in wanted]
        fix_derived_times(w, _task_run, ids)
