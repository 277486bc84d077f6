"""Records observed piecemeal (events): combining observations of one thing, and derived times."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from operator import itemgetter
from typing import Any

from catalog.records import RunRecord
from catalog.store.writes.common import EPOCH


def happened_at(r: RunRecord) -> datetime:
    return r.started_at or r.queued_at or r.logical_date or r.ended_at or EPOCH


def duration_of(
    duration: float | None, started: datetime | None, ended: datetime | None
) -> float | None:
    if duration is not None:
        return duration
    if started is not None and ended is not None:
        return (ended - started).total_seconds()
    return None


# Times a record does not know are kept, not erased: an end event need not repeat the start.
KEEP_TIMES = ("queued_at", "started_at", "ended_at", "logical_date", "duration_s")
# What an observation older than the stored one must not undo (a late START after a COMPLETE).
GUARDED = ("status", "raw_status", "ended_at", "error", "status_at")


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
        for c in KEEP_TIMES:
            if c in merged and merged[c] is None:
                merged[c] = have[c]
        if not fresh:
            for c in GUARDED:
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
