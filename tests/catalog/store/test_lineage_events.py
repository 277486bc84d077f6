"""Store.receive: pushed events stored once, a run's identity decided by its first event."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from catalog.enums import RunStatus
from catalog.records import JSON, Batch, ReceivedEvent, RunRecord
from catalog.store import tables as t
from catalog.store.store import Store

AT = datetime(2024, 5, 1, 10, tzinfo=UTC)


def _event(kind: str, at: datetime, identity: JSON | None = None, **payload: Any) -> ReceivedEvent:
    return ReceivedEvent("run-1", kind, at, payload, run_id="run-1", run_identity=identity)


class Recorder:
    """A to_batch that records what the store handed it and writes the run."""

    def __init__(self, events: Sequence[ReceivedEvent]) -> None:
        self.events = events
        self.calls: list[tuple[list[int], dict[str, JSON], dict[str, list[JSON]]]] = []

    def __call__(
        self, new: Sequence[int], runs: Mapping[str, JSON], earlier: Mapping[str, Sequence[JSON]]
    ) -> Batch:
        self.calls.append((list(new), dict(runs), {k: list(v) for k, v in earlier.items()}))
        run = RunRecord("ns:job", "run-1", RunStatus.RUNNING, status_at=AT)
        return Batch(cursor={}, runs=(run,))


def _count(store: Store, model: type[Any]) -> int:
    with store.session() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_a_repeated_delivery_is_stored_and_applied_once(store: Store) -> None:
    source = store.ensure_source("ol", "openlineage")
    start = _event("START", AT, {}, n=1)
    events = [start, _event("START", AT, {}, n=2), _event("COMPLETE", AT, {})]
    to_batch = Recorder(events)
    done = store.receive(source, events, to_batch)
    assert (done.stored, done.duplicates) == (2, 1)
    assert to_batch.calls[0][0] == [0, 2]  # the first delivery of each
    again = store.receive(source, [start], to_batch)
    assert (again.stored, again.duplicates) == (0, 1)
    assert len(to_batch.calls) == 1  # nothing to apply: nothing written
    assert _count(store, t.LineageEvent) == 2
    with store.session() as s:
        payloads = sorted(e.payload["n"] for e in s.scalars(select(t.LineageEvent)) if e.payload)
    assert payloads == [1]


def test_the_first_event_of_a_run_decides_its_identity(store: Store) -> None:
    source = store.ensure_source("ol", "openlineage")
    parent = {"parent": {"run": {"runId": "dag-run"}}}
    first = Recorder([])
    store.receive(source, [_event("START", AT, parent)], first)
    later = Recorder([])
    complete = ReceivedEvent(
        "run-1",
        "COMPLETE",
        AT.replace(hour=11),
        {"eventType": "COMPLETE"},
        run_id="run-1",
        run_identity={},  # this event names no parent
        history=True,
    )
    store.receive(source, [complete], later)
    (call,) = later.calls
    assert call[1] == {"run-1": parent}
    # It is given the run's events stored before, for what the run read and wrote.
    assert call[2] == {"run-1": [{}]}
