"""Adapters kept open between the syncs of their source: reused while their syncs go well,
closed after a failure and at shutdown, replaced when a kept one fails before writing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any, ClassVar

import pytest

from catalog import adapter as adapters
from catalog.adapter import Adapter, AdapterConfig
from catalog.adapter_pool import AdapterPool
from catalog.config import Settings, parse_settings
from catalog.errors import AdapterError
from catalog.records import Batch, Cursor, PipelineRecord
from catalog.store.store import Store
from catalog.sync import sync_source
from catalog.sync_types import SyncStatus

TTL = timedelta(minutes=5)


class KeptConfig(AdapterConfig):
    label: str = ""


class KeptAdapter(Adapter[KeptConfig]):
    """Records which instances were made, used and closed. ``stale``: the next fetch of an
    instance that has synced before fails, as a revoked session or a dropped connection does;
    ``broken``: every fetch fails."""

    kind = "kept"
    config_class = KeptConfig
    made: ClassVar[list[KeptAdapter]] = []
    stale: ClassVar[bool] = False
    broken: ClassVar[bool] = False

    def __init__(self, name: str, config: KeptConfig) -> None:
        super().__init__(name, config)
        self.syncs = 0
        self.closed = False
        KeptAdapter.made.append(self)

    def fetch(self, cursor: Cursor | None) -> Iterator[Batch]:
        if KeptAdapter.broken or (KeptAdapter.stale and self.syncs):
            KeptAdapter.stale = False
            raise AdapterError("source 'kept': the tool refused the session (401)")
        assert not self.closed
        self.syncs += 1
        yield Batch(cursor={"n": self.syncs}, pipelines=(PipelineRecord("etl", "ETL"),))

    def close(self) -> None:
        self.closed = True


@pytest.fixture(autouse=True)
def _kept_is_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    KeptAdapter.made = []
    KeptAdapter.stale = KeptAdapter.broken = False
    monkeypatch.setattr(adapters, "discover_adapters", lambda: {"kept": KeptAdapter})


def settings(label: str = "") -> Settings:
    return parse_settings({"sources": {"kept": {"kind": "kept", "label": label}}})


def closed(adapter: Adapter[Any]) -> bool:
    assert isinstance(adapter, KeptAdapter)
    return adapter.closed


def sync(store: Store, pool: AdapterPool, config: Settings | None = None) -> Any:
    source = (config or settings()).sources["kept"]
    return sync_source(store, source, lease_ttl=TTL, adapters=pool)


def test_the_pool_hands_back_the_adapter_it_kept_and_closes_what_it_does_not() -> None:
    pool = AdapterPool()
    source = settings().sources["kept"]
    first, reused = pool.take(source)
    assert not reused
    pool.give_back(source, first, healthy=True)
    again, reused = pool.take(source)
    assert (again, reused) == (first, True)
    pool.give_back(source, again, healthy=False)  # its sync failed
    assert closed(first)
    fresh, reused = pool.take(source)
    assert fresh is not first
    assert not reused
    pool.give_back(source, fresh, healthy=True)
    changed = settings("other").sources["kept"]
    other, reused = pool.take(changed)  # the source's settings changed: a new adapter
    assert other is not fresh
    assert not reused
    assert closed(fresh)
    pool.give_back(changed, other, healthy=True)
    pool.close()
    assert closed(other)
    late, _ = pool.take(changed)
    pool.give_back(changed, late, healthy=True)  # after shutdown: closed, not kept
    assert closed(late)


def test_syncs_of_a_source_reuse_one_open_adapter(store: Store) -> None:
    pool = AdapterPool()
    for _ in range(3):
        assert sync(store, pool).status is SyncStatus.OK
    [adapter] = KeptAdapter.made
    assert (adapter.syncs, adapter.closed) == (3, False)
    pool.close()
    assert adapter.closed


def test_a_kept_adapter_that_fails_before_writing_is_replaced_and_the_sync_goes_on(
    store: Store,
) -> None:
    pool = AdapterPool()
    assert sync(store, pool).status is SyncStatus.OK
    KeptAdapter.stale = True  # e.g. the server restarted and forgot the session
    result = sync(store, pool)
    assert result.status is SyncStatus.OK, result.error
    old, new = KeptAdapter.made
    assert old.closed
    assert not new.closed
    assert new.syncs == 1
    assert store.read_cursor(store.source_id("kept")) == {"n": 1}
    # The new one is kept in turn.
    assert sync(store, pool).status is SyncStatus.OK
    assert len(KeptAdapter.made) == 2


def test_a_failed_sync_closes_its_adapter_and_the_next_starts_afresh(store: Store) -> None:
    pool = AdapterPool()
    KeptAdapter.broken = True
    failed = sync(store, pool)
    assert failed.status is SyncStatus.FAILED
    assert "refused the session" in str(failed.error)
    [broken] = KeptAdapter.made  # a new adapter is not retried: the failure is the tool's
    assert broken.closed
    KeptAdapter.broken = False
    assert sync(store, pool).status is SyncStatus.OK
    assert len(KeptAdapter.made) == 2
