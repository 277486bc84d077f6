"""Received OpenLineage events, stored once, and the run identities their first events stated."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from catalog.records import JSON, Batch, ReceivedEvent
from catalog.store import tables as t
from catalog.store.bulk import upsert
from catalog.store.writes import chunks

# The records of received events: (indexes of the new events, run identities, earlier events).
ToBatch = Callable[[Sequence[int], Mapping[str, JSON], Mapping[str, Sequence[JSON]]], Batch]


@dataclass(frozen=True, slots=True)
class Received:
    """What :meth:`Store.receive` did with pushed events."""

    stored: int  # new to the catalog: stored and applied
    duplicates: int  # repeated deliveries of events stored before (or earlier in the request)


_event = t.table(t.LineageEvent)
_run = t.table(t.LineageRun)

Key = tuple[str, str, datetime]


def _key(e: ReceivedEvent) -> Key:
    return (e.run_key, e.event_type, e.event_time)


def read_history(
    conn: Connection, source_id: int, run_keys: Iterable[str]
) -> dict[str, list[JSON]]:
    """The stored events of each run, oldest first."""
    out: dict[str, list[JSON]] = {}
    for part in chunks(sorted(set(run_keys))):
        q = (
            select(_event.c.run_key, _event.c.payload)
            .where(_event.c.source_id == source_id, _event.c.run_key.in_(part))
            .order_by(_event.c.event_time, _event.c.id)
        )
        for key, payload in conn.execute(q):
            out.setdefault(key, []).append(payload)
    return out


def store_new_events(
    conn: Connection, source_id: int, events: Sequence[ReceivedEvent], now: datetime
) -> tuple[list[int], dict[str, list[JSON]]]:
    """Store the events not stored before (nor earlier in ``events``): their indexes, and the
    events stored before of the runs whose new events need them (see ReceivedEvent.history)."""
    first: dict[Key, int] = {}
    for i, e in enumerate(events):
        first.setdefault(_key(e), i)
    stored: set[Key] = set()
    times = sorted({k[2] for k in first})
    for keys in chunks(sorted({k[0] for k in first})):
        for at in chunks(times):
            q = select(_event.c.run_key, _event.c.event_type, _event.c.event_time).where(
                _event.c.source_id == source_id,
                _event.c.run_key.in_(keys),
                _event.c.event_time.in_(at),
            )
            stored.update((k, ty, t_) for k, ty, t_ in conn.execute(q))
    new = sorted(i for k, i in first.items() if k not in stored)
    history = read_history(conn, source_id, (events[i].run_key for i in new if events[i].history))
    rows = [
        {
            "source_id": source_id,
            "run_key": events[i].run_key,
            "event_type": events[i].event_type,
            "event_time": events[i].event_time,
            "received_at": now,
            "payload": dict(events[i].payload),
            "warnings": list(events[i].warnings),
        }
        for i in new
    ]
    # A replica storing the same delivery at the same moment: one of the two inserts nothing.
    upsert(conn, _event, rows, ["source_id", "run_key", "event_type", "event_time"])
    return new, history


def decide_runs(
    conn: Connection, source_id: int, events: Sequence[ReceivedEvent], now: datetime
) -> dict[str, JSON]:
    """Each run's identity as its first event stated it: remembered for runs met now, read
    back for every run of ``events``."""
    proposed: dict[str, Any] = {}
    for e in events:
        if e.run_id is not None and e.run_identity is not None:
            proposed.setdefault(e.run_id, e.run_identity)
    rows = [
        {"source_id": source_id, "run_id": r, "identity": dict(i), "first_seen": now}
        for r, i in proposed.items()
    ]
    upsert(conn, _run, rows, ["source_id", "run_id"])
    decided: dict[str, JSON] = {}
    for part in chunks(sorted(proposed)):
        q = select(_run.c.run_id, _run.c.identity).where(
            _run.c.source_id == source_id, _run.c.run_id.in_(part)
        )
        decided.update({r: i for r, i in conn.execute(q)})
    return decided
