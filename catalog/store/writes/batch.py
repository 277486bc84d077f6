"""One batch, written entity by entity in the order their references need."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from catalog.identity import IdentityRules, canonical_batch
from catalog.records import Batch
from catalog.store.aliases import link_symlinked, read_symlinks
from catalog.store.engine import write_cache
from catalog.store.writes.assets import write_assets
from catalog.store.writes.checks import write_checks
from catalog.store.writes.common import Writer
from catalog.store.writes.events import write_asset_events
from catalog.store.writes.lineage import write_column_lineage, write_edges
from catalog.store.writes.pipelines import write_pipelines, write_tasks
from catalog.store.writes.runs import load_runs, referenced_runs, write_runs
from catalog.store.writes.task_runs import write_task_runs
from catalog.symlinks import referenced, resolve_symlinks


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
    w = Writer(conn, source_id, now)
    batch = canonical_batch(batch, identity)
    with write_cache(conn):
        batch = resolve_symlinks(batch, read_symlinks(conn, source_id, referenced(batch)))
        lineage_changed = _write(w, batch)
        linked = link_symlinked(conn, source_id, batch, now)
    return WriteResult(w.changed + linked, lineage_changed or linked > 0)


def _write(w: Writer, b: Batch) -> bool:
    w.observing = any(r.status_at for r in b.runs) or any(r.status_at for r in b.task_runs)
    write_pipelines(w, b)
    load_runs(w, referenced_runs(b) - {r.external_id for r in b.runs})
    write_tasks(w, b)
    write_runs(w, b.runs)
    write_task_runs(w, b)
    write_assets(w, b)
    write_asset_events(w, b.asset_events)
    write_checks(w, b)
    write_column_lineage(w, b)
    return write_edges(w, b)
