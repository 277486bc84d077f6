"""Writing adapter batches: idempotent bulk upserts that resolve records' references.

Every statement here is a bulk statement (``executemany`` or ``IN`` lists in chunks), never one
round trip per record, and every upsert skips rows whose values did not change, so re-syncing the
same data neither changes a value nor rewrites a row.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import lru_cache
from operator import itemgetter
from typing import Any, TypeVar

from sqlalchemy import (
    Connection,
    Table,
    and_,
    bindparam,
    delete,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.sql.dml import UpdateBase

from catalog import freshness
from catalog.enums import AssetEventKind, NodeKind
from catalog.errors import AdapterError
from catalog.freshness import InvalidPolicy, check_policy
from catalog.identity import IdentityRules, canonical_batch
from catalog.records import (
    AssetEventRecord,
    AssetRecord,
    Batch,
    EdgeRecord,
    NodeRef,
    PipelineRecord,
    RunRecord,
)
from catalog.store import tables as t
from catalog.store.aliases import link_symlinked, read_symlinks
from catalog.store.bulk import execute_many, upsert
from catalog.symlinks import referenced, resolve_symlinks

CHUNK = 900  # IN-list size: well under SQLite's bound-parameter limit on every build
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
K = TypeVar("K")

_pipeline = t.Pipeline.__table__  # type: ignore[attr-defined]
_task = t.Task.__table__  # type: ignore[attr-defined]
_run = t.Run.__table__  # type: ignore[attr-defined]
_task_run = t.TaskRun.__table__  # type: ignore[attr-defined]
_asset = t.Asset.__table__  # type: ignore[attr-defined]
_alias = t.AssetAlias.__table__  # type: ignore[attr-defined]
_event = t.AssetEvent.__table__  # type: ignore[attr-defined]
_check = t.CheckResult.__table__  # type: ignore[attr-defined]
_edge = t.LineageEdge.__table__  # type: ignore[attr-defined]
_owner = t.Owner.__table__  # type: ignore[attr-defined]
_tag = t.Tag.__table__  # type: ignore[attr-defined]
_meta = t.Meta.__table__  # type: ignore[attr-defined]
_column_lineage = t.ColumnLineage.__table__  # type: ignore[attr-defined]


# Statements run once per row of a batch: built once, so the driver gets them compiled once.
_PRODUCED = (
    update(_asset)
    .where(_asset.c.id == bindparam("i"))
    .where(or_(_asset.c.last_produced_at.is_(None), _asset.c.last_produced_at < bindparam("at")))
    .values(last_produced_at=bindparam("at"))
)
_STALE_AFTER = (
    update(_asset).where(_asset.c.id == bindparam("i")).values(stale_after=bindparam("s"))
)
_PARENT = (
    update(_run)
    .where(_run.c.id == bindparam("i"))
    .where(_run.c.parent_run_id.is_distinct_from(bindparam("p")))
    .values(parent_run_id=bindparam("p"))
)


def chunks(items: Sequence[K], size: int = CHUNK) -> Iterator[Sequence[K]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def bump(conn: Connection, key: str) -> None:
    updated = conn.execute(update(_meta).where(_meta.c.key == key).values(value=_meta.c.value + 1))
    if updated.rowcount == 0:
        upsert(conn, _meta, [{"key": key, "value": 1}], ["key"], ["value"])


@dataclass(frozen=True, slots=True)
class WriteResult:
    changed: int  # rows inserted, updated or deleted; 0 when the batch was already stored
    lineage_changed: bool  # an edge was added: cached lineage graphs are out of date


def write_batch(
    conn: Connection,
    source_id: int,
    batch: Batch,
    now: datetime,
    identity: IdentityRules | None = None,
) -> WriteResult:
    """Write every record of ``batch`` for the source, its assets named canonically."""
    writer = _BatchWriter(conn, source_id, now)
    batch = canonical_batch(batch, identity)
    batch = resolve_symlinks(batch, read_symlinks(conn, source_id, referenced(batch)))
    lineage_changed = writer.write(batch)
    linked = link_symlinked(conn, source_id, batch, now)
    return WriteResult(writer.changed + linked, lineage_changed or linked > 0)


def _happened_at(r: RunRecord) -> datetime:
    return r.started_at or r.queued_at or r.logical_date or r.ended_at or EPOCH


def _duration(
    duration: float | None, started: datetime | None, ended: datetime | None
) -> float | None:
    if duration is not None:
        return duration
    if started is not None and ended is not None:
        return (ended - started).total_seconds()
    return None


# Times a record does not know are kept, not erased: an end event need not repeat the start.
_KEEP_TIMES = ("queued_at", "started_at", "ended_at", "logical_date", "duration_s")
# What an observation older than the stored one must not undo (a late START after a COMPLETE).
_GUARDED = ("status", "raw_status", "ended_at", "error", "status_at")


def _fresh(stored_at: datetime | None, incoming_at: datetime | None) -> bool:
    return stored_at is None or (incoming_at is not None and incoming_at >= stored_at)


def fold_observations(rows: list[dict[str, Any]], keys: Sequence[str]) -> list[dict[str, Any]]:
    """One row per key, combined the way the upsert combines a row with the stored one."""
    if len(set(map(itemgetter(*keys), rows))) == len(rows):
        return rows  # nothing observed twice: nothing to fold
    folded: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        key = tuple(row[k] for k in keys)
        have = folded.get(key)
        if have is None:
            folded[key] = dict(row)
            continue
        fresh = _fresh(have["status_at"], row["status_at"])
        merged = dict(row)
        for c in _KEEP_TIMES:
            if c in merged and merged[c] is None:
                merged[c] = have[c]
        if not fresh:
            for c in _GUARDED:
                merged[c] = have[c]
        if row["status_at"] is not None or have["status_at"] is not None:
            merged["meta"] = merge_meta(
                have["meta"], have["status_at"], row["meta"], row["status_at"]
            )
        folded[key] = merged
    return list(folded.values())


def merge_meta(
    stored: dict[str, Any],
    stored_at: datetime | None,
    incoming: dict[str, Any],
    incoming_at: datetime | None,
) -> dict[str, Any]:
    """Observed metadata accumulates: keys only one side has are kept, and where both have a
    key the newer observation wins (nested objects merge key by key)."""
    fresh = _fresh(stored_at, incoming_at)
    out = dict(stored)
    for k, v in incoming.items():
        old = out.get(k)
        if isinstance(old, dict) and isinstance(v, dict):
            out[k] = merge_meta(old, stored_at, v, incoming_at)
        elif k not in out or fresh:
            out[k] = v
    return out


class _BatchWriter:
    def __init__(self, conn: Connection, source_id: int, now: datetime) -> None:
        self.conn = conn
        self.source_id = source_id
        self.now = now
        self.pipelines: dict[str, int] = {}
        self.tasks: dict[tuple[int, str], int] = {}
        self.runs: dict[str, tuple[int, int]] = {}  # external id -> (run id, pipeline id)
        self.assets: dict[str, int] = {}
        self.changed = 0
        self.observing = False

    def upsert(
        self,
        table: Table,
        rows: list[dict[str, Any]],
        keys: Sequence[str],
        update_cols: Sequence[str] | None = None,
        keep_existing: Iterable[str] = (),
        *,
        guarded: Iterable[str] = (),
        guard_by: str | None = None,
    ) -> int:
        n = upsert(
            self.conn,
            table,
            rows,
            keys,
            update_cols,
            keep_existing,
            guarded=guarded,
            guard_by=guard_by,
        )
        self.changed += n
        return n

    def execute_many(self, stmt: UpdateBase, rows: Sequence[dict[str, Any]]) -> int:
        n = execute_many(self.conn, stmt, rows)
        self.changed += n
        return n

    def execute(self, stmt: Any, params: Any = None) -> int:
        n = max(self.conn.execute(stmt, params).rowcount, 0)
        self.changed += n
        return n

    def write(self, b: Batch) -> bool:
        self.observing = any(r.status_at for r in b.runs) or any(r.status_at for r in b.task_runs)
        self._write_pipelines(b)
        self._load_runs(self._referenced_runs(b) - {r.external_id for r in b.runs})
        self._write_tasks(b)
        self._write_runs(b.runs)
        self._write_task_runs(b)
        self._write_assets(b)
        self._write_asset_events(b.asset_events)
        self._write_checks(b)
        self._write_column_lineage(b)
        return self._write_edges(b)

    # -- pipelines and tasks ------------------------------------------------------------------

    def _write_pipelines(self, b: Batch) -> None:
        def row(p: PipelineRecord) -> dict[str, Any]:
            return {
                "source_id": self.source_id,
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
        self.upsert(_pipeline, [row(p) for p in b.pipelines if not p.partial], keys, cols)
        # A partial record (one event's view) keeps what it does not state; metadata merges.
        partial = [row(p) for p in b.pipelines if p.partial]
        stored = self._pipeline_meta([r["external_id"] for r in partial])
        for r in partial:
            r["meta"] = merge_meta(stored.get(r["external_id"], {}), None, r["meta"], None)
        self.upsert(_pipeline, partial, keys, cols, keep_existing=cols[1:-1])
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
            {"source_id": self.source_id, "external_id": x, "name": x, "meta": {}}
            for x in sorted(wanted - {p.external_id for p in b.pipelines})
        ]
        self.upsert(_pipeline, stubs, ["source_id", "external_id"])
        for part in chunks(sorted(wanted)):
            q = select(_pipeline.c.external_id, _pipeline.c.id).where(
                _pipeline.c.source_id == self.source_id, _pipeline.c.external_id.in_(part)
            )
            self.pipelines.update({ext: pid for ext, pid in self.conn.execute(q)})
        by_id = {self.pipelines[p.external_id]: p for p in b.pipelines}
        # A partial record that states no owners or tags leaves those stored.
        owners = {i: p.owners for i, p in by_id.items() if p.owners or not p.partial}
        tags = {i: p.tags for i, p in by_id.items() if p.tags or not p.partial}
        self._replace_labels(_owner, "name", "pipeline", owners)
        self._replace_labels(_tag, "tag", "pipeline", tags)

    def _pipeline_meta(self, external_ids: list[str]) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for part in chunks(sorted(external_ids)):
            q = select(_pipeline.c.external_id, _pipeline.c.meta).where(
                _pipeline.c.source_id == self.source_id, _pipeline.c.external_id.in_(part)
            )
            out.update({x: dict(m or {}) for x, m in self.conn.execute(q)})
        return out

    def _write_tasks(self, b: Batch) -> None:
        pid = self.pipelines
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
        self.upsert(
            _task,
            rows,
            ["pipeline_id", "external_id"],
            ["name", "kind", "ui_url", "meta"],
            keep_existing=["kind", "ui_url"],
        )
        run_pipeline = {r.external_id: pid[r.pipeline_id] for r in b.runs}
        run_pipeline.update({ext: p for ext, (_, p) in self.runs.items()})
        wanted = {(pid[x.pipeline_id], x.external_id) for x in b.tasks}
        wanted.update((pid[x.pipeline_id], up) for x in b.tasks for up in x.upstream)
        for tr in b.task_runs:
            if tr.run_id not in run_pipeline:
                self._run(tr.run_id, f"task run {tr.task_id!r}")  # raises: an unknown run
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
        self.upsert(_task, stubs, ["pipeline_id", "external_id"])
        for part in chunks(sorted(wanted)):
            q = select(_task.c.pipeline_id, _task.c.external_id, _task.c.id).where(
                tuple_(_task.c.pipeline_id, _task.c.external_id).in_(part)
            )
            self.tasks.update({(p, x): i for p, x, i in self.conn.execute(q)})

    # -- runs ---------------------------------------------------------------------------------

    @staticmethod
    def _referenced_runs(b: Batch) -> set[str]:
        refs = {tr.run_id for tr in b.task_runs}
        refs.update(e.run_id for e in b.asset_events if e.run_id)
        refs.update(c.run_id for c in b.check_results if c.run_id)
        refs.update(r.parent_run_id for r in b.runs if r.parent_run_id)
        return refs

    def _load_runs(self, external_ids: Iterable[str]) -> None:
        for part in chunks(sorted(external_ids)):
            q = select(_run.c.external_id, _run.c.id, _run.c.pipeline_id).where(
                _run.c.source_id == self.source_id, _run.c.external_id.in_(part)
            )
            self.runs.update({ext: (i, p) for ext, i, p in self.conn.execute(q)})

    def _write_runs(self, runs: Sequence[RunRecord]) -> None:
        rows: list[dict[str, Any]] = [
            {
                "source_id": self.source_id,
                "pipeline_id": self.pipelines[r.pipeline_id],
                "external_id": r.external_id,
                "status": r.status.value,
                "raw_status": r.raw_status,
                "trigger": r.trigger.value,
                "logical_date": r.logical_date,
                "queued_at": r.queued_at,
                "started_at": r.started_at,
                "ended_at": r.ended_at,
                "happened_at": _happened_at(r),
                "duration_s": _duration(r.duration_s, r.started_at, r.ended_at),
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
        observed = rows if self.observing else []
        if observed:
            stored = {
                ext: (meta, at)
                for part in chunks(sorted(r["external_id"] for r in observed))
                for ext, meta, at in self.conn.execute(
                    select(_run.c.external_id, _run.c.meta, _run.c.status_at).where(
                        _run.c.source_id == self.source_id, _run.c.external_id.in_(part)
                    )
                )
            }
            for r in observed:
                if r["external_id"] in stored:
                    meta, at = stored[r["external_id"]]
                    r["meta"] = merge_meta(meta or {}, at, r["meta"], r["status_at"])
        cols = [c for c in rows[0] if c not in ("source_id", "external_id")] if rows else []
        self.upsert(
            _run,
            rows,
            ["source_id", "external_id"],
            cols,
            keep_existing=_KEEP_TIMES,
            guarded=_GUARDED,
            guard_by="status_at",
        )
        self._load_runs([r.external_id for r in runs])
        parents = []
        for run in runs:
            if run.parent_run_id is None:
                continue
            if run.parent_run_id not in self.runs:
                raise AdapterError(
                    f"run {run.external_id!r} names parent run {run.parent_run_id!r}, "
                    "which this source has not reported"
                )
            parents.append(
                {"i": self.runs[run.external_id][0], "p": self.runs[run.parent_run_id][0]}
            )
        self.execute_many(_PARENT, parents)
        # Observed records (events) state tags on some events only: none leaves those stored.
        self._replace_labels(
            _tag,
            "tag",
            "run",
            {self.runs[r.external_id][0]: r.tags for r in runs if r.tags or not self.observing},
        )
        self._replace_labels(
            _owner, "name", "run", {self.runs[r.external_id][0]: r.owners for r in runs if r.owners}
        )
        if observed or any(r["duration_s"] is None for r in rows):
            self._fix_derived_times(_run, [self.runs[r["external_id"]][0] for r in rows])

    def _fix_derived_times(self, table: Table, ids: list[int]) -> None:
        """Recompute when-it-happened and duration from the merged stored times.

        Records that know only part of a run (an end event without its start) keep the stored
        times, so what derives from them is computed from the row, not from the record.
        """
        runs = table is _run
        changes = []
        for part in chunks(sorted(set(ids))):
            cols = [table.c.id, table.c.started_at, table.c.ended_at, table.c.duration_s]
            if runs:
                cols += [table.c.queued_at, table.c.logical_date, table.c.happened_at]
            for row in self.conn.execute(select(*cols).where(table.c.id.in_(part))):
                change: dict[str, Any] = {}
                if row.duration_s is None and row.started_at and row.ended_at:
                    change["duration_s"] = (row.ended_at - row.started_at).total_seconds()
                if runs:
                    happened = (
                        row.started_at or row.queued_at or row.logical_date or row.ended_at or EPOCH
                    )
                    if happened != row.happened_at:
                        change["happened_at"] = happened
                if change:
                    changes.append((row.id, change))
        for i, change in changes:
            self.execute(update(table).where(table.c.id == i).values(**change))

    def _run(self, external_id: str, what: str) -> tuple[int, int]:
        try:
            return self.runs[external_id]
        except KeyError:
            raise AdapterError(
                f"{what} refers to run {external_id!r}, which this source has not reported"
            ) from None

    def _write_task_runs(self, b: Batch) -> None:
        rows: list[dict[str, Any]] = []
        for tr in b.task_runs:
            run_id, pipeline_id = self._run(tr.run_id, f"task run {tr.task_id!r}")
            rows.append(
                {
                    "run_id": run_id,
                    "task_id": self.tasks[(pipeline_id, tr.task_id)],
                    "attempt": tr.attempt,
                    "map_index": tr.map_index,
                    "external_id": tr.external_id,
                    "status": tr.status.value,
                    "raw_status": tr.raw_status,
                    "queued_at": tr.queued_at,
                    "started_at": tr.started_at,
                    "ended_at": tr.ended_at,
                    "duration_s": _duration(tr.duration_s, tr.started_at, tr.ended_at),
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
        observed = rows if self.observing else []
        if observed:
            stored: dict[tuple[Any, ...], tuple[Any, Any, int]] = {}
            for part in chunks(sorted({r["run_id"] for r in observed})):
                q = select(
                    *(_task_run.c[k] for k in keys),
                    _task_run.c.meta,
                    _task_run.c.status_at,
                    _task_run.c.id,
                ).where(_task_run.c.run_id.in_(part))
                for row in self.conn.execute(q):
                    stored[tuple(row[: len(keys)])] = (row.meta, row.status_at, row.id)
            for r in observed:
                if (found := stored.get(tuple(r[k] for k in keys))) is not None:
                    r["meta"] = merge_meta(found[0] or {}, found[1], r["meta"], r["status_at"])
        cols = [c for c in rows[0] if c not in keys] if rows else []
        self.upsert(
            _task_run,
            rows,
            keys,
            cols,
            keep_existing=_KEEP_TIMES,
            guarded=_GUARDED,
            guard_by="status_at",
        )
        if observed:
            ids = []
            for part in chunks(sorted({r["run_id"] for r in observed})):
                q = select(*(_task_run.c[k] for k in keys), _task_run.c.id).where(
                    _task_run.c.run_id.in_(part)
                )
                wanted = {tuple(r[k] for k in keys) for r in observed}
                ids += [row.id for row in self.conn.execute(q) if tuple(row[: len(keys)]) in wanted]
            self._fix_derived_times(_task_run, ids)

    # -- assets -------------------------------------------------------------------------------

    def _write_assets(self, b: Batch) -> None:
        def row(a: AssetRecord, with_meta: bool) -> dict[str, Any]:
            r: dict[str, Any] = {
                "uri": a.uri,
                "kind": a.kind,
                "description": a.description,
                "freshness_max_age_s": a.freshness_max_age_s,
                "freshness_cron": a.freshness_cron,
                "freshness_timezone": a.freshness_timezone,
            }
            if with_meta:
                r["meta"] = dict(a.metadata)
            return r

        # One row per asset: a batch may name an asset twice (a source's record and the
        # spellings it was met under); the first record says what the asset is.
        first: dict[str, AssetRecord] = {}
        for a in b.assets:
            first.setdefault(a.uri, a)
        for a in first.values():
            try:
                check_policy(a.freshness_max_age_s, a.freshness_cron, a.freshness_timezone)
            except InvalidPolicy as exc:
                raise AdapterError(f"asset {a.uri!r}: freshness policy: {exc}") from None
        # Rows are created in the batch's order first: ids follow what the source reported.
        self.upsert(_asset, [{"uri": u, "meta": {}} for u in first], ["uri"])
        # Metadata is merged, not replaced: each tool describes the asset under its own keys,
        # and a sync that repeats what is stored changes nothing. Read after the rows exist,
        # so that the read locks them.
        stored = self._asset_meta([u for u, a in first.items() if a.metadata])
        described = [
            replace(a, metadata={**stored.get(a.uri, {}), **a.metadata}) if a.metadata else a
            for a in first.values()
        ]
        # Several sources describe the same asset; one that knows less keeps what others said.
        # A freshness policy is one thing: a source that states one replaces all of it.
        scalar = ["kind", "description"]
        policy = ["freshness_max_age_s", "freshness_cron", "freshness_timezone"]
        for with_meta in (True, False):
            for with_policy in (True, False):
                group = [
                    row(a, with_meta) | ({} if with_meta else {"meta": {}})
                    for a in described
                    if bool(a.metadata) is with_meta
                    and (a.freshness_max_age_s is not None) is with_policy
                ]
                if not with_policy:
                    group = [{k: v for k, v in r.items() if k not in policy} for r in group]
                self.upsert(
                    _asset,
                    group,
                    ["uri"],
                    [*scalar, *(policy if with_policy else ()), *(["meta"] if with_meta else [])],
                    keep_existing=scalar,
                )
        wanted = referenced(b)
        self.upsert(_asset, [{"uri": u, "meta": {}} for u in sorted(wanted)], ["uri"])
        for part in chunks(sorted(wanted)):
            q = select(_asset.c.uri, _asset.c.id).where(_asset.c.uri.in_(part))
            self.assets.update({u: i for u, i in self.conn.execute(q)})
        aliases: dict[str, dict[str, Any]] = {}
        for a in b.assets:
            if a.alias:
                aliases.setdefault(
                    a.alias,
                    {
                        "asset_id": self.assets[a.uri],
                        "source_id": self.source_id,
                        "alias": a.alias,
                        "reason": a.alias_reason,
                    },
                )
        self.upsert(_alias, list(aliases.values()), ["source_id", "alias"], ["asset_id", "reason"])
        by_id = {self.assets[a.uri]: a for a in described}
        # Several tools describe one asset and most know no owners or tags for it: a record
        # that states none leaves what another source said.
        owners = {i: a.owners for i, a in by_id.items() if a.owners}
        self._replace_labels(_owner, "name", "asset", owners)
        self._replace_labels(_tag, "tag", "asset", {i: a.tags for i, a in by_id.items() if a.tags})
        if any(a.freshness_max_age_s is not None for a in b.assets):
            self._refresh_staleness(list(by_id))

    def _asset_meta(self, uris: list[str]) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for part in chunks(sorted(uris)):
            # Locked until this batch commits: two sources syncing at once describe the same
            # asset, and a merge from a stale read would drop the other's keys. (SQLite holds
            # the database's write lock already; it has no row locks to take.)
            q = select(_asset.c.uri, _asset.c.meta).where(_asset.c.uri.in_(part))
            q = q.order_by(_asset.c.uri).with_for_update()
            out.update({u: dict(m or {}) for u, m in self.conn.execute(q)})
        return out

    def _write_asset_events(self, events: Sequence[AssetEventRecord]) -> None:
        task_runs = self._task_runs_for(events)
        runs, assets, source_id = self.runs, self.assets, self.source_id
        produced = AssetEventKind.PRODUCED
        rows = []
        latest: dict[int, datetime] = {}
        for e in events:
            run_ext = e.run_id
            run_id: int | None
            tr_id: int | None
            if run_ext:
                found = runs.get(run_ext)
                run_id = (found or self._run(run_ext, f"asset event on {e.asset_uri!r}"))[0]
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
        self.upsert(_event, rows, keys, [c for c in rows[0] if c not in keys] if rows else [])
        if latest:
            self.execute_many(_PRODUCED, [{"i": i, "at": at} for i, at in latest.items()])
            self._refresh_staleness(list(latest))

    def _task_runs_for(
        self, events: Sequence[AssetEventRecord]
    ) -> dict[tuple[str, str, int | None], int]:
        """Task run ids for events that name a task; without an attempt, the latest one."""
        wanted = {(e.run_id, e.task_id, e.attempt) for e in events if e.run_id and e.task_id}
        if not wanted:
            return {}
        by_cid = {}
        for run_ext, task_ext, attempt in wanted:
            run_id, pipeline_id = self._run(run_ext or "", "asset event")
            task_id = self.tasks.get((pipeline_id, task_ext or ""))
            if task_id is None:
                continue
            by_cid[(run_ext, task_ext, attempt)] = (run_id, task_id, attempt)
        found: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
        pairs = {(r, tk) for r, tk, _ in by_cid.values()}
        # By run alone: a plain IN list is far cheaper to bind than one of (run, task) pairs.
        for part in chunks(sorted({r for r, _ in pairs})):
            q = select(
                _task_run.c.run_id, _task_run.c.task_id, _task_run.c.attempt, _task_run.c.id
            ).where(_task_run.c.run_id.in_(part))
            for r, tk, att, i in self.conn.execute(q):
                if (r, tk) in pairs:
                    found[(r, tk)].append((att, i))
        out = {}
        for key, (r, tk, attempt) in by_cid.items():
            candidates = sorted(found.get((r, tk), []))
            match = [i for a, i in candidates if attempt is None or a == attempt]
            if match:
                out[key] = match[-1]
        return out

    def _refresh_staleness(self, asset_ids: list[int]) -> None:
        changes = []
        for part in chunks(sorted(asset_ids)):
            q = select(
                _asset.c.id,
                _asset.c.last_produced_at,
                _asset.c.freshness_max_age_s,
                _asset.c.freshness_cron,
                _asset.c.freshness_timezone,
                _asset.c.stale_after,
            ).where(
                _asset.c.id.in_(part),
                # Without a policy or a production an asset is never stale: only rows with
                # both, or with a stale time to clear, can change.
                or_(
                    _asset.c.stale_after.is_not(None),
                    and_(
                        _asset.c.freshness_max_age_s.is_not(None),
                        _asset.c.last_produced_at.is_not(None),
                    ),
                ),
            )
            for i, last, max_age, cron, zone, stale_after in self.conn.execute(q):
                new = freshness.stale_after(last, max_age, cron, zone)
                if new != stale_after:
                    changes.append({"i": i, "s": new})
        self.execute_many(_STALE_AFTER, changes)

    def _write_checks(self, b: Batch) -> None:
        rows = [
            {
                "source_id": self.source_id,
                "result_key": c.key(),
                "asset_id": self.assets[c.asset_uri],
                "check_name": c.check_name,
                "passed": c.passed,
                "severity": c.severity,
                "at": c.at,
                "run_id": self._run(c.run_id, f"check {c.check_name!r}")[0] if c.run_id else None,
                "meta": dict(c.metadata),
            }
            for c in b.check_results
        ]
        keys = ["source_id", "result_key"]
        self.upsert(_check, rows, keys, [c for c in rows[0] if c not in keys] if rows else [])

    def _write_column_lineage(self, b: Batch) -> None:
        rows: dict[tuple[Any, ...], dict[str, Any]] = {}
        for c in b.column_lineage:
            key = (
                self.assets[c.output_uri],
                c.output_column,
                self.assets[c.input_uri],
                c.input_column,
            )
            seen = c.seen_at or self.now
            row = rows.get(key)
            if row is None or seen >= row["last_seen"]:
                first = seen if row is None else min(row["first_seen"], seen)
                rows[key] = {
                    "source_id": self.source_id,
                    "output_asset_id": key[0],
                    "output_column": key[1],
                    "input_asset_id": key[2],
                    "input_column": key[3],
                    "transformations": [dict(x) for x in c.transformations],
                    "first_seen": first,
                    "last_seen": seen,
                }
            else:
                row["first_seen"] = min(row["first_seen"], seen)
        if not rows:
            return
        keys = ["source_id", "output_asset_id", "output_column", "input_asset_id", "input_column"]
        self.upsert(_column_lineage, list(rows.values()), keys)
        # The newest observation's transformations win; first/last seen only widen.
        self._widen_seen(_column_lineage, keys, list(rows.values()), ("transformations",))

    def _widen_seen(
        self,
        table: Table,
        keys: Sequence[str],
        rows: list[dict[str, Any]],
        follow_newest: Sequence[str] = (),
    ) -> None:
        """Move stored first_seen back and last_seen forward to the rows' own; the columns in
        ``follow_newest`` take the value of the newest observation."""
        if not rows:
            return
        later, earlier = _widen_statements(table, tuple(keys), tuple(follow_newest))
        params = [
            {f"k_{k}": r[k] for k in keys}
            | {f"v_{c}": r[c] for c in follow_newest}
            | {"first": r["first_seen"], "last": r["last_seen"]}
            for r in rows
        ]
        self.execute_many(later, params)
        self.execute_many(earlier, params)

    # -- lineage ------------------------------------------------------------------------------

    def _node(self, ref: NodeRef) -> tuple[str, int]:
        if ref.kind is NodeKind.ASSET:
            return NodeKind.ASSET.value, self.assets[ref.ref]
        if ref.kind is NodeKind.PIPELINE:
            return NodeKind.PIPELINE.value, self.pipelines[ref.ref]
        return NodeKind.TASK.value, self.tasks[(self.pipelines[ref.ref], ref.task or "")]

    def _write_edges(self, b: Batch) -> bool:
        edges = list(b.edges)
        edges.extend(
            EdgeRecord(
                NodeRef.of_task(x.pipeline_id, up), NodeRef.of_task(x.pipeline_id, x.external_id)
            )
            for x in b.tasks
            for up in x.upstream
        )
        rows: dict[tuple[Any, ...], dict[str, Any]] = {}
        for e in edges:
            (fk, fi), (tk, ti) = self._node(e.upstream), self._node(e.downstream)
            key = (e.origin.value, fk, fi, tk, ti)
            seen = e.seen_at
            row = rows.setdefault(
                key,
                {
                    "source_id": self.source_id,
                    "origin": key[0],
                    "from_kind": fk,
                    "from_id": fi,
                    "to_kind": tk,
                    "to_id": ti,
                    "first_seen": seen or self.now,
                    "last_seen": seen or self.now,
                    "explicit": False,
                },
            )
            if seen is not None:
                row["first_seen"] = min(row["first_seen"], seen) if row["explicit"] else seen
                row["last_seen"] = max(row["last_seen"], seen) if row["explicit"] else seen
                row["explicit"] = True
        if not rows:
            return False
        keys = ["source_id", "origin", "from_kind", "from_id", "to_kind", "to_id"]
        new = self.upsert(
            _edge, [{k: v for k, v in r.items() if k != "explicit"} for r in rows.values()], keys
        )
        # Only an edge's own timestamps move first/last seen: re-writing a batch changes nothing.
        self._widen_seen(_edge, keys, [r for r in rows.values() if r["explicit"]])
        return new > 0

    # -- owners and tags ----------------------------------------------------------------------

    def _replace_labels(
        self, table: Table, column: str, kind: str, wanted: dict[int, tuple[str, ...]]
    ) -> None:
        """Make each entity's labels exactly ``wanted``, touching only rows that differ."""
        if not wanted:
            return
        have: set[tuple[int, str]] = set()
        for ids in chunks(sorted(wanted)):
            q = select(table.c.entity_id, table.c[column]).where(
                table.c.entity_kind == kind, table.c.entity_id.in_(ids)
            )
            have.update((i, v) for i, v in self.conn.execute(q))
        want = {(i, v) for i, values in wanted.items() for v in values}
        for part in chunks(sorted(have - want)):
            self.execute(
                delete(table).where(
                    table.c.entity_kind == kind,
                    tuple_(table.c.entity_id, table.c[column]).in_(part),
                )
            )
        new = [{"entity_kind": kind, "entity_id": i, column: v} for i, v in sorted(want - have)]
        if new:
            self.execute(table.insert(), new)


@lru_cache(maxsize=16)
def _widen_statements(
    table: Table, keys: tuple[str, ...], follow_newest: tuple[str, ...]
) -> tuple[UpdateBase, UpdateBase]:
    """The UPDATEs moving last_seen forward (with ``follow_newest``) and first_seen back."""
    # Parameter names must not be column names of an UPDATE's SET: hence the prefixes.
    match = and_(*(table.c[k] == bindparam(f"k_{k}") for k in keys))
    newer: dict[str, Any] = {c: bindparam(f"v_{c}") for c in follow_newest}
    later = (
        update(table)
        .where(match, table.c.last_seen < bindparam("last"))
        .values(last_seen=bindparam("last"), **newer)
    )
    earlier = (
        update(table)
        .where(match, table.c.first_seen > bindparam("first"))
        .values(first_seen=bindparam("first"))
    )
    return later, earlier
