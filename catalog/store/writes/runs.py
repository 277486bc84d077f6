"""Runs: upserts guarded by observation time, parents, labels and derived times."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, Table, bindparam, select, update

from catalog.errors import AdapterError
from catalog.records import Batch, RunRecord
from catalog.store import tables as t
from catalog.store.values import in_values
from catalog.store.writes.common import EPOCH, Writer
from catalog.store.writes.labels import replace_labels
from catalog.store.writes.observations import (
    GUARDED,
    KEEP_TIMES,
    duration_of,
    fold_observations,
    happened_at,
    merge_meta,
)

_run = t.Run.__table__  # type: ignore[attr-defined]
_owner = t.Owner.__table__  # type: ignore[attr-defined]
_tag = t.Tag.__table__  # type: ignore[attr-defined]


def _new_parent(run: Table, incoming: Any) -> ColumnElement[bool]:
    return run.c.parent_run_id.is_distinct_from(incoming.parent_run_id)


def referenced_runs(b: Batch) -> set[str]:
    refs = {tr.run_id for tr in b.task_runs}
    refs.update(e.run_id for e in b.asset_events if e.run_id)
    refs.update(c.run_id for c in b.check_results if c.run_id)
    refs.update(r.parent_run_id for r in b.runs if r.parent_run_id)
    return refs


def load_runs(w: Writer, external_ids: Iterable[str]) -> None:
    wanted = list(external_ids)
    if not wanted:
        return
    found = w.rows(_load_runs, wanted, source=w.source_id)
    w.runs.update({ext: (i, p) for ext, i, p in found})


def _load_runs() -> Select[Any]:
    return select(_run.c.external_id, _run.c.id, _run.c.pipeline_id).where(
        _run.c.source_id == bindparam("source"), in_values(_run.c.external_id, key="ids")
    )


def write_runs(w: Writer, runs: Sequence[RunRecord]) -> None:
    rows: list[dict[str, Any]] = [
        {
            "source_id": w.source_id,
            "pipeline_id": w.pipelines[r.pipeline_id],
            "external_id": r.external_id,
            "status": r.status.value,
            "raw_status": r.raw_status,
            "trigger": r.trigger.value,
            "logical_date": r.logical_date,
            "queued_at": r.queued_at,
            "started_at": r.started_at,
            "ended_at": r.ended_at,
            "happened_at": happened_at(r),
            "duration_s": duration_of(r.duration_s, r.started_at, r.ended_at),
            "error": r.error,
            "ui_url": r.ui_url,
            "meta": dict(r.metadata),
            "status_at": r.status_at,
        }
        for r in runs
    ]
    rows = fold_observations(rows, ("external_id",))
    # Observed records (events) describe a run piecemeal: their metadata accumulates. A bare
    # record in the same batch (a parent run named by its child) must not wipe it either.
    observed = rows if w.observing else []
    if observed:
        q = select(_run.c.external_id, _run.c.meta, _run.c.status_at).where(
            _run.c.source_id == w.source_id,
            in_values(_run.c.external_id, [r["external_id"] for r in observed]),
        )
        stored = {ext: (meta, at) for ext, meta, at in w.conn.execute(q).all()}
        for r in observed:
            if r["external_id"] in stored:
                meta, at = stored[r["external_id"]]
                r["meta"] = merge_meta(meta or {}, at, r["meta"], r["status_at"])
    cols = [c for c in rows[0] if c not in ("source_id", "external_id")] if rows else []
    w.upsert(
        _run,
        rows,
        ["source_id", "external_id"],
        cols,
        keep_existing=KEEP_TIMES,
        guarded=GUARDED,
        guard_by="status_at",
    )
    load_runs(w, [r.external_id for r in runs])
    parents = []
    for run in runs:
        if run.parent_run_id is None:
            continue
        if run.parent_run_id not in w.runs:
            raise AdapterError(
                f"run {run.external_id!r} names parent run {run.parent_run_id!r}, "
                "which this source has not reported"
            )
        parents.append((w.runs[run.external_id][0], w.runs[run.parent_run_id][0]))
    w.update_rows(_run, ("id", "parent_run_id"), parents, _new_parent)
    # Observed records (events) state tags on some events only: none leaves those stored.
    replace_labels(
        w,
        _tag,
        "tag",
        "run",
        {w.runs[r.external_id][0]: r.tags for r in runs if r.tags or not w.observing},
    )
    replace_labels(
        w, _owner, "name", "run", {w.runs[r.external_id][0]: r.owners for r in runs if r.owners}
    )
    if observed or any(r["duration_s"] is None for r in rows):
        fix_derived_times(w, _run, [w.runs[r["external_id"]][0] for r in rows])


def fix_derived_times(w: Writer, table: Table, ids: list[int]) -> None:
    """Recompute when-it-happened and duration from the merged stored times.

    Records that know only part of a run (an end event without its start) keep the stored
    times, so what derives from them is computed from the row, not from the record.
    """
    runs = table is _run
    changes = []
    cols = [table.c.id, table.c.started_at, table.c.ended_at, table.c.duration_s]
    if runs:
        cols += [table.c.queued_at, table.c.logical_date, table.c.happened_at]
    for row in w.conn.execute(select(*cols).where(in_values(table.c.id, set(ids)))).all():
        change: dict[str, Any] = {}
        if row.duration_s is None and row.started_at and row.ended_at:
            change["duration_s"] = (row.ended_at - row.started_at).total_seconds()
        if runs:
            happened = row.started_at or row.queued_at or row.logical_date or row.ended_at or EPOCH
            if happened != row.happened_at:
                change["happened_at"] = happened
        if change:
            changes.append((row.id, change))
    for i, change in changes:
        w.execute(update(table).where(table.c.id == i).values(**change))
