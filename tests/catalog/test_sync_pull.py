"""What a sync reads first: the runs a push named, committed whole on their own before the
incremental sync writes anything, without moving the cursor; and hints pushed while a sync
runs, read between its batches."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar

import pytest

from catalog import adapter as adapters
from catalog.adapter import Adapter, AdapterConfig, SyncHint
from catalog.config import Settings, parse_settings
from catalog.enums import RunStatus
from catalog.records import Batch, Cursor, PipelineRecord, RunRecord, TaskRecord, TaskRunRecord
from catalog.store import tables as t
from catalog.store.store import Store
from catalog.sync import sync_sources
from catalog.sync_triggers import request_sync
from catalog.sync_types import SyncStatus

T0 = datetime(2026, 3, 1, tzinfo=UTC)


class StepConfig(AdapterConfig):
    pass


class StepAdapter(Adapter[StepConfig]):
    """Two incremental batches; ``between`` runs before each is yielded (the test looks at
    the store, or pushes, there)."""

    kind = "step"
    config_class = StepConfig
    order: ClassVar[list[str]] = []
    between: ClassVar[Callable[[int], None]] = staticmethod(lambda n: None)

    def fetch(self, cursor: Cursor | None) -> Iterator[Batch]:
        for n in (1, 2):
            StepAdapter.between(n)
            StepAdapter.order.append(f"fetch {n}")
            yield Batch(
                cursor={"n": n},
                pipelines=(PipelineRecord("etl", "ETL"),),
                runs=(RunRecord("etl", f"run-{n}", RunStatus.SUCCESS, started_at=T0),),
            )

    def fetch_hinted(self, hints: Sequence[SyncHint], cursor: Cursor | None) -> Iterator[Batch]:
        for h in hints:
            StepAdapter.order.append(f"hinted {h.run_id}")
            yield Batch(
                cursor={"n": 999},  # ignored: a hinted batch never moves the cursor
                pipelines=(PipelineRecord("etl", "ETL"),),
                tasks=(TaskRecord("etl", "load"),),
                runs=(RunRecord("etl", str(h.run_id), RunStatus.FAILED, started_at=T0),),
                task_runs=(TaskRunRecord(str(h.run_id), "load", RunStatus.FAILED, started_at=T0),),
            )


@pytest.fixture(autouse=True)
def _step_is_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    StepAdapter.order = []
    StepAdapter.between = staticmethod(lambda n: None)
    monkeypatch.setattr(adapters, "discover_adapters", lambda: {"step": StepAdapter})


def settings() -> Settings:
    return parse_settings({"sources": {"step": {"kind": "step", "interval": "1h"}}})


def catalog_state(store: Store) -> tuple[dict[str, str], int, dict[str, Any] | None]:
    """Runs by id with their status, how many task runs, and the source's cursor."""
    with store.session() as s:
        runs = {r.external_id: r.status for r in s.query(t.Run).all()}
        task_runs = s.query(t.TaskRun).count()
    return runs, task_runs, store.read_cursor(store.source_id("step"))


def test_the_hinted_run_is_committed_whole_before_the_incremental_sync_writes(
    store: Store,
) -> None:
    config = settings()
    [first] = sync_sources(store, config)  # a cursor to keep: {"n": 2}
    assert first.status is SyncStatus.OK
    seen: list[tuple[dict[str, str], int, dict[str, Any] | None]] = []
    StepAdapter.between = staticmethod(lambda n: seen.append(catalog_state(store)))
    StepAdapter.order = []
    request_sync(store, config, "step", [SyncHint("hot", "etl")])
    [result] = sync_sources(store, config)
    assert result.status is SyncStatus.OK, result.error
    assert StepAdapter.order == ["hinted hot", "fetch 1", "fetch 2"]
    # Before the incremental sync had read anything: the pushed run is there, with its task
    # run, and the cursor is still the last sync's.
    runs, task_runs, cursor = seen[0]
    assert runs["hot"] == "failed"
    assert task_runs == 1
    assert cursor == {"n": 2}
    assert catalog_state(store)[2] == {"n": 2}  # the incremental sync's own, not 999


def test_a_push_during_a_sync_is_read_between_its_batches_and_still_followed_up(
    store: Store,
) -> None:
    config = settings()

    def push_once(n: int) -> None:
        if n == 2:
            # Another thread, as the API's push handler is: the sync is running meanwhile.
            done = threading.Thread(
                target=request_sync, args=(store, config, "step", [SyncHint("late", "etl")])
            )
            done.start()
            done.join()

    StepAdapter.between = staticmethod(push_once)
    [result] = sync_sources(store, config)
    assert result.status is SyncStatus.OK, result.error
    assert StepAdapter.order == ["fetch 1", "fetch 2", "hinted late"]
    assert catalog_state(store)[0]["late"] == "failed"
    # The request waits for its follow-up all the same (the incremental sync may have passed
    # what it names), which reads the hint first again.
    assert store.sync_requested(store.source_id("step"))
    StepAdapter.between = staticmethod(lambda n: None)
    StepAdapter.order = []
    [follow] = sync_sources(store, config)
    assert follow.status is SyncStatus.OK
    assert StepAdapter.order == ["hinted late", "fetch 1", "fetch 2"]
    assert not store.sync_requested(store.source_id("step"))


def test_a_hint_the_sync_already_read_is_not_read_again_between_batches(store: Store) -> None:
    config = settings()
    request_sync(store, config, "step", [SyncHint("hot", "etl")])

    def push_same(n: int) -> None:
        if n == 1:
            request_sync(store, config, "step", [SyncHint("hot", "etl")])

    StepAdapter.between = staticmethod(push_same)
    [result] = sync_sources(store, config)
    assert result.status is SyncStatus.OK
    assert StepAdapter.order == ["hinted hot", "fetch 1", "fetch 2"]
