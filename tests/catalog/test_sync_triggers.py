"""Push-triggered syncs: requests recorded in the store, taken by whichever worker claims the
lease next; coalesced bursts; one follow-up, never two syncs at once, across schedulers."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import pytest

from catalog import adapter as adapters
from catalog.adapter import Adapter, AdapterConfig, SyncHint
from catalog.config import Settings, parse_settings
from catalog.enums import RunStatus, SyncTrigger
from catalog.errors import AdapterError, NotFoundError
from catalog.records import Batch, Cursor, PipelineRecord, RunRecord
from catalog.store import tables as t
from catalog.store.store import Store
from catalog.sync import sync_source, sync_sources
from catalog.sync_triggers import SourceDisabled, SyncScheduler, request_sync
from catalog.sync_types import SyncStatus

T0 = datetime(2026, 3, 1, tzinfo=UTC)
TTL = timedelta(minutes=5)


class GateConfig(AdapterConfig):
    hold: bool = False  # each fetch waits for `release` (a sync that takes a while)


class GateAdapter(Adapter[GateConfig]):
    """A tool whose fetch can be held open; counts fetches and how many ran at once."""

    kind = "gate"
    config_class = GateConfig
    lock: ClassVar[threading.Lock] = threading.Lock()
    active: ClassVar[int] = 0
    most: ClassVar[int] = 0
    fetches: ClassVar[int] = 0
    entered: ClassVar[threading.Event] = threading.Event()
    release: ClassVar[threading.Event] = threading.Event()
    hinted: ClassVar[list[tuple[SyncHint, ...]]] = []
    order: ClassVar[list[str]] = []

    def fetch(self, cursor: Cursor | None) -> Iterator[Batch]:
        cls = GateAdapter
        with cls.lock:
            cls.active += 1
            cls.fetches += 1
            cls.most = max(cls.most, cls.active)
        try:
            cls.entered.set()
            if self.config.hold:
                cls.release.wait(30)
            n = int(cursor["n"]) + 1 if cursor else 1
            cls.order.append(f"fetch {n}")
            yield Batch(
                cursor={"n": n},
                pipelines=(PipelineRecord("etl", "ETL"),),
                runs=(RunRecord("etl", f"run-{n}", RunStatus.SUCCESS, started_at=T0),),
            )
        finally:
            with cls.lock:
                cls.active -= 1

    def fetch_hinted(self, hints: Sequence[SyncHint], cursor: Cursor | None) -> Iterator[Batch]:
        GateAdapter.hinted.append(tuple(hints))
        for h in hints:
            if h.run_id == "missing":
                raise AdapterError("source 'gate': run 'missing' is not known to the tool")
            if h.run_id:
                GateAdapter.order.append(f"hinted {h.run_id}")
                yield Batch(
                    cursor={"n": 999},  # ignored: a hinted batch never moves the cursor
                    runs=(RunRecord(h.pipeline or "etl", h.run_id, RunStatus.FAILED),),
                )


@pytest.fixture(autouse=True)
def _gate_is_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    GateAdapter.active = GateAdapter.most = GateAdapter.fetches = 0
    GateAdapter.entered = threading.Event()
    GateAdapter.release = threading.Event()
    GateAdapter.hinted = []
    GateAdapter.order = []
    monkeypatch.setattr(adapters, "discover_adapters", lambda: {"gate": GateAdapter})


def settings(hold: bool = False, **source: Any) -> Settings:
    return parse_settings(
        {
            "sources": {"gate": {"kind": "gate", "hold": hold, "interval": "1h", **source}},
            "sync": {"lease_ttl": "5m"},
        }
    )


def sync_row(store: Store) -> t.SyncState:
    with store.session() as s:
        row = s.get(t.SyncState, store.source_id("gate"))
        assert row is not None
        return row


# -- the store ------------------------------------------------------------------------------


def test_pushes_before_a_sync_share_its_id_and_the_sync_takes_them(store: Store) -> None:
    config = settings()
    first = request_sync(store, config, "gate", [SyncHint("r1", "etl")])
    again = request_sync(store, config, "gate")
    more = request_sync(store, config, "gate", [SyncHint("r2"), SyncHint("r1", "etl")])
    assert first.sync_id == again.sync_id == more.sync_id
    assert not first.follows_running_sync
    row = sync_row(store)
    assert row.requested_id == first.sync_id
    assert row.requested_at is not None
    assert row.requested_hints == [{"run_id": "r1", "pipeline": "etl"}, {"run_id": "r2"}]

    [result] = sync_sources(store, config, trigger=SyncTrigger.INTERVAL)
    assert (result.status, result.sync_id, result.trigger) == (
        SyncStatus.OK,
        first.sync_id,
        SyncTrigger.PUSH,
    )
    assert GateAdapter.hinted == [(SyncHint("r1", "etl"), SyncHint("r2"))]
    row = sync_row(store)
    assert (row.sync_id, row.trigger, row.syncs) == (first.sync_id, "push", 1)
    assert (row.requested_id, row.requested_at, row.requested_hints) == (None, None, None)

    # The next sync with no push waiting is the interval's, under a new id, with no hints.
    [plain] = sync_sources(store, config, trigger=SyncTrigger.INTERVAL)
    assert plain.trigger is SyncTrigger.INTERVAL
    assert plain.sync_id not in (None, first.sync_id)
    assert len(GateAdapter.hinted) == 1
    assert sync_row(store).syncs == 2


def test_a_manual_sync_serves_a_waiting_push_but_stays_manual(store: Store) -> None:
    pushed = request_sync(store, settings(), "gate", [SyncHint("r1")])
    [result] = sync_sources(store, settings())  # `tempox sync`
    assert (result.sync_id, result.trigger) == (pushed.sync_id, SyncTrigger.MANUAL)
    assert sync_row(store).trigger == "manual"


def test_hinted_runs_are_written_first_without_moving_the_cursor(store: Store) -> None:
    config = settings()
    request_sync(store, config, "gate", [SyncHint("hot", "etl")])
    [result] = sync_sources(store, config)
    assert result.status is SyncStatus.OK
    assert GateAdapter.order == ["hinted hot", "fetch 1"]
    assert store.read_cursor(store.source_id("gate")) == {"n": 1}
    with store.session() as s:
        runs = {r.external_id: r.status for r in s.query(t.Run).all()}
    assert runs == {"hot": "failed", "run-1": "success"}


def test_a_hint_the_tool_does_not_know_leaves_the_sync_to_run(store: Store) -> None:
    config = settings()
    request_sync(store, config, "gate", [SyncHint("missing")])
    [result] = sync_sources(store, config)
    assert result.status is SyncStatus.OK, result.error
    assert GateAdapter.order == ["fetch 1"]


def test_a_push_names_an_unknown_or_disabled_source(store: Store) -> None:
    with pytest.raises(NotFoundError, match=r"no source named 'nope' \(configured: gate\)"):
        request_sync(store, settings(), "nope")
    with pytest.raises(SourceDisabled, match=r"source 'gate' is disabled"):
        request_sync(store, settings(enabled=False), "gate")


def test_a_push_during_a_sync_waits_for_one_follow_up(store: Store) -> None:
    config = settings(hold=True)
    source = config.sources["gate"]
    first: list[Any] = []
    worker = threading.Thread(
        target=lambda: first.append(sync_source(store, source, lease_ttl=TTL)), daemon=True
    )
    worker.start()
    assert GateAdapter.entered.wait(10)
    running_id = sync_row(store).sync_id
    pushed = request_sync(store, config, "gate")
    assert pushed.follows_running_sync
    assert pushed.sync_id != running_id
    # Another worker cannot start a second sync meanwhile, and does not take the request.
    other = sync_source(store, source, lease_ttl=TTL, trigger=SyncTrigger.INTERVAL)
    assert other.status is SyncStatus.SKIPPED
    assert other.sync_id is None
    assert store.sync_requested(store.source_id("gate"))
    GateAdapter.release.set()
    worker.join(10)
    assert first[0].sync_id == running_id
    follow = sync_source(store, source, lease_ttl=TTL, trigger=SyncTrigger.INTERVAL)
    assert (follow.sync_id, follow.trigger) == (pushed.sync_id, SyncTrigger.PUSH)
    assert GateAdapter.most == 1


def test_many_concurrent_pushes_record_one_request(store: Store) -> None:
    config = settings()
    with ThreadPoolExecutor(max_workers=16) as pool:
        ids = set(pool.map(lambda _: request_sync(store, config, "gate").sync_id, range(100)))
    assert len(ids) == 1
    assert sync_row(store).requested_id in ids


# -- the scheduler --------------------------------------------------------------------------


async def _until(check: Any, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("the condition never held")
        await asyncio.sleep(0.02)


def test_a_burst_of_pushes_is_one_or_two_syncs_and_never_two_at_once(store: Store) -> None:
    config = settings()

    async def scenario() -> None:
        scheduler = SyncScheduler(store, config)
        task = asyncio.create_task(scheduler.run())
        await _until(lambda: sync_row_or_none(store) is not None and sync_row(store).syncs == 1)
        await _until(lambda: sync_row(store).outcome == "ok")  # the start-up sync ended
        loop = asyncio.get_running_loop()
        with ThreadPoolExecutor(max_workers=20) as pool:
            pushes = [loop.run_in_executor(pool, scheduler.push, "gate") for _ in range(100)]
            ids = {p.sync_id for p in await asyncio.gather(*pushes)}
        await _until(
            lambda: sync_row(store).requested_id is None and sync_row(store).outcome == "ok"
        )
        await asyncio.sleep(0.5)  # a third sync, were there one, would have started by now
        scheduler.stop()
        await asyncio.wait_for(task, 30)
        row = sync_row(store)
        assert row.syncs - 1 in (1, 2)  # besides the start-up sync
        assert row.sync_id in ids
        assert row.trigger == "push"
        assert 1 <= len(ids) <= 2

    asyncio.run(scenario())
    assert GateAdapter.most == 1


def sync_row_or_none(store: Store) -> t.SyncState | None:
    try:
        return sync_row(store)
    except NotFoundError:
        return None


def test_two_schedulers_on_one_database_run_one_follow_up_not_two_syncs(database: str) -> None:
    config = settings(hold=True)
    a, b = Store(database), Store(database)

    async def scenario() -> None:
        first = SyncScheduler(a, config)
        task_a = asyncio.create_task(first.run())
        assert await asyncio.to_thread(GateAdapter.entered.wait, 10)  # A's start-up sync holds
        second = SyncScheduler(b, config)
        task_b = asyncio.create_task(second.run())
        await asyncio.sleep(0.3)  # B's start-up sync found A's lease and skipped
        pushed = await asyncio.to_thread(second.push, "gate")  # B is pushed, A is syncing
        assert pushed.follows_running_sync
        await asyncio.sleep(1.5)  # B looks again, still finds A syncing
        assert sync_row(a).syncs == 1
        GateAdapter.release.set()
        await _until(lambda: sync_row(a).sync_id == pushed.sync_id)
        await _until(lambda: sync_row(a).outcome == "ok")
        await asyncio.sleep(1.5)
        for scheduler in (first, second):
            scheduler.stop()
        await asyncio.wait_for(asyncio.gather(task_a, task_b), 30)

    try:
        asyncio.run(scenario())
        row = sync_row(a)
        assert (row.syncs, row.trigger, row.requested_id) == (2, "push", None)
        assert GateAdapter.fetches == 2
        assert GateAdapter.most == 1
    finally:
        a.close()
        b.close()
