from __future__ import annotations

import asyncio
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest
from sqlalchemy import select, update
from sqlmodel import SQLModel, col

from adapters.synthetic import SyntheticAdapter
from catalog import adapter as adapters
from catalog.adapter import Adapter, AdapterConfig
from catalog.config import DATABASE_URL_ENV, Settings, parse_settings, read_secret
from catalog.enums import RunStatus
from catalog.errors import AdapterError, ConfigError
from catalog.records import Batch, Cursor, PipelineRecord, RunRecord
from catalog.store import tables as t
from catalog.store.store import LeaseLost, SourceState, Store
from catalog.sync import sync_sources
from catalog.sync_triggers import SyncScheduler
from catalog.sync_types import BatchStats, SyncResult, SyncStatus
from tests.catalog.store.snapshot import BOOKKEEPING, counts, snapshot

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 3, 1, tzinfo=UTC)
SYNTHETIC: dict[str, Any] = {
    "kind": "synthetic",
    "pipelines": 4,
    "tasks_per_pipeline": 4,
    "runs_per_pipeline": 6,
    "assets": 10,
    "failure_rate": 0.3,
    "seed": 5,
    "batch_size": 5,
}


class FlakyConfig(AdapterConfig):
    pages: int = 3
    fail_after: int | None = None  # pages written in this fetch before it fails
    error: str = "adapter"  # "adapter": an AdapterError, "bug": a ValueError
    token_env: str | None = None
    hang_after: int | None = None  # pages written before it waits for `release` (a drip)


class FlakyAdapter(Adapter[FlakyConfig]):
    """An orchestrator that answers page by page, and may go down in the middle."""

    kind = "flaky"
    config_class = FlakyConfig
    cursors: ClassVar[list[Cursor | None]] = []
    release: ClassVar[threading.Event] = threading.Event()
    closed: ClassVar[list[str]] = []

    def close(self) -> None:
        self.closed.append(self.name)

    def __init__(self, name: str, config: FlakyConfig) -> None:
        super().__init__(name, config)
        if config.token_env:
            read_secret(name, "token_env", config.token_env)

    def fetch(self, cursor: Cursor | None) -> Iterator[Batch]:
        self.cursors.append(cursor)
        start = int(cursor["page"]) if cursor else 0
        for page in range(start + 1, self.config.pages + 1):
            if self.config.fail_after is not None and page - start > self.config.fail_after:
                if self.config.error == "bug":
                    raise ValueError("unexpected page layout")
                raise AdapterError(f"source {self.name!r}: http://flaky.invalid answered 503")
            if self.config.hang_after is not None and page - start > self.config.hang_after:
                self.release.wait(30)  # a read that goes on and on
            yield Batch(
                cursor={"page": page},
                pipelines=(PipelineRecord("etl", "ETL"),),
                runs=(RunRecord("etl", f"run-{page}", RunStatus.SUCCESS, started_at=T0),),
            )


@pytest.fixture(autouse=True)
def _flaky_is_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    FlakyAdapter.cursors = []
    FlakyAdapter.release = threading.Event()
    FlakyAdapter.closed = []
    found = {"synthetic": SyntheticAdapter, "flaky": FlakyAdapter}
    monkeypatch.setattr(adapters, "discover_adapters", lambda: dict(found))


def settings_with(sources: dict[str, dict[str, Any]], **sync: Any) -> Settings:
    return parse_settings({"sources": sources, "sync": sync}, file="tempox.toml")


def states(store: Store) -> dict[str, SourceState]:
    return {s.name: s for s in store.read_sources_with_state()}


def run_ids(store: Store) -> list[str]:
    with store.session() as session:
        return sorted(session.scalars(select(col(t.Run.external_id))))


def test_sync_writes_the_estate_and_records_the_outcome(store: Store) -> None:
    [result] = sync_sources(store, settings_with({"synth": SYNTHETIC}))
    assert result.status is SyncStatus.OK, result.error
    assert result.batches == 5  # 24 runs, 5 per batch
    assert counts(store)["run"] == 24
    state = states(store)["synth"]
    assert (state.outcome, state.error, state.batches) == ("ok", None, 5)
    assert state.records == result.records
    assert state.succeeded_at is not None
    assert state.lease_owner is None
    assert store.read_cursor(store.source_id("synth")) == {"runs_emitted": 24}


def test_syncing_twice_from_scratch_equals_syncing_once(store: Store) -> None:
    settings = settings_with({"synth": SYNTHETIC})
    sync_sources(store, settings)
    once = snapshot(store)
    with store.transaction() as conn:  # forget the cursor: the next sync starts from nothing
        conn.execute(update(SQLModel.metadata.tables["sync_state"]).values(cursor=None))
    [again] = sync_sources(store, settings)
    assert again.status is SyncStatus.OK
    assert again.batches == 5
    twice = snapshot(store)
    assert {k: len(v) for k, v in twice.items()} == {k: len(v) for k, v in once.items()}
    assert twice == once  # every value of every table, ids and data version included


def test_a_failing_source_does_not_stop_the_others(store: Store) -> None:
    settings = settings_with({"flaky": {"kind": "flaky", "fail_after": 1}, "synth": SYNTHETIC})
    flaky, synth = sync_sources(store, settings)
    assert synth.status is SyncStatus.OK
    assert flaky.status is SyncStatus.FAILED
    assert flaky.error == "source 'flaky': http://flaky.invalid answered 503"
    assert flaky.batches == 1
    state = states(store)["flaky"]
    assert (state.outcome, state.error) == ("failed", flaky.error)
    assert state.failed_at is not None
    assert state.lease_owner is None
    # The page before the failure is committed, with its cursor.
    flaky_id = store.source_id("flaky")
    assert store.read_cursor(flaky_id) == {"page": 1}
    assert "run-1" in run_ids(store)

    # The orchestrator is back: the next sync resumes after page 1 and duplicates nothing.
    healed = settings_with({"flaky": {"kind": "flaky"}, "synth": SYNTHETIC})
    [result] = sync_sources(store, healed, ["flaky"])
    assert result.status is SyncStatus.OK
    assert result.batches == 2
    assert FlakyAdapter.cursors == [None, {"page": 1}]
    assert [r for r in run_ids(store) if r.startswith("run-")] == ["run-1", "run-2", "run-3"]
    assert states(store)["flaky"].outcome == "ok"
    assert states(store)["flaky"].error is None


def test_an_unexpected_error_is_recorded_with_its_type(store: Store) -> None:
    settings = settings_with({"flaky": {"kind": "flaky", "fail_after": 0, "error": "bug"}})
    [result] = sync_sources(store, settings)
    assert result.error == "ValueError: unexpected page layout"
    assert states(store)["flaky"].error == "ValueError: unexpected page layout"


def test_an_adapter_that_cannot_start_is_recorded(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FLAKY_TOKEN", raising=False)
    settings = settings_with({"flaky": {"kind": "flaky", "token_env": "FLAKY_TOKEN"}})
    [result] = sync_sources(store, settings)
    assert result.status is SyncStatus.FAILED
    assert "FLAKY_TOKEN is not set" in str(result.error)
    assert states(store)["flaky"].error == result.error


def test_unknown_source_names_the_configured_ones(store: Store) -> None:
    settings = settings_with({"a": SYNTHETIC, "b": SYNTHETIC})
    with pytest.raises(ConfigError, match=r"no source named 'c' \(configured: a, b\)"):
        sync_sources(store, settings, ["c"])


def test_disabled_sources_sync_only_when_named(store: Store) -> None:
    settings = settings_with({"off": SYNTHETIC | {"enabled": False}})
    assert sync_sources(store, settings) == []
    [result] = sync_sources(store, settings, ["off"])
    assert result.status is SyncStatus.OK


def test_a_source_leased_elsewhere_is_skipped(store: Store) -> None:
    settings = settings_with({"synth": SYNTHETIC})
    source_id = store.ensure_source("synth", "synthetic")
    assert store.try_lease(source_id, "worker-on-another-host:1:abc", timedelta(minutes=5))
    [result] = sync_sources(store, settings)
    assert result.status is SyncStatus.SKIPPED
    assert result.error == "already being synced by worker-on-another-host:1:abc"
    assert result.ok
    assert counts(store)["run"] == 0


def test_a_second_concurrent_sync_is_refused(store: Store) -> None:
    settings = settings_with({"synth": SYNTHETIC | {"delay_s": 0.2}})
    first_batch = threading.Event()
    results: list[SyncResult] = []

    class Observer:
        def start(self, source: str) -> None:
            pass

        def batch(self, source: str, stats: BatchStats) -> None:
            first_batch.set()

        def done(self, source: str, result: SyncResult) -> None:
            pass

    worker = threading.Thread(
        target=lambda: results.extend(sync_sources(store, settings, observer=Observer()))
    )
    worker.start()
    assert first_batch.wait(timeout=30)
    [second] = sync_sources(store, settings)
    worker.join(timeout=60)
    assert second.status is SyncStatus.SKIPPED
    assert second.error is not None
    assert second.error.startswith(f"already being synced by {socket.gethostname()}:{os.getpid()}:")
    assert [r.status for r in results] == [SyncStatus.OK]
    assert counts(store)["run"] == 24


def test_the_lease_of_a_dead_local_process_is_taken_over(store: Store) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    owner = f"{socket.gethostname()}:{int(dead.stdout)}:gone"
    source_id = store.ensure_source("synth", "synthetic")
    assert store.try_lease(source_id, owner, timedelta(minutes=10))
    [result] = sync_sources(store, settings_with({"synth": SYNTHETIC}))
    assert result.status is SyncStatus.OK


def test_a_worker_whose_lease_was_taken_over_cannot_commit(store: Store) -> None:
    source_id = store.ensure_source("flaky", "flaky")
    assert store.try_lease(source_id, "slow-worker", timedelta(seconds=-1))  # ran out at once
    assert store.try_lease(source_id, "new-worker", timedelta(minutes=5))
    batch = next(FlakyAdapter("flaky", FlakyConfig()).fetch(None))
    with pytest.raises(LeaseLost, match="another worker took the source over"):
        store.write_batch(source_id, batch, lease_ttl=timedelta(minutes=5), owner="slow-worker")
    assert store.read_cursor(source_id) is None
    assert run_ids(store) == []
    store.write_batch(source_id, batch, lease_ttl=timedelta(minutes=5), owner="new-worker")
    assert run_ids(store) == ["run-1"]


def test_stop_ends_the_sync_after_the_batch_it_writes(store: Store) -> None:
    stop = threading.Event()

    class StopAfterTwo:
        def start(self, source: str) -> None:
            pass

        def batch(self, source: str, stats: BatchStats) -> None:
            if stats.batches == 2:
                stop.set()

        def done(self, source: str, result: SyncResult) -> None:
            pass

    settings = settings_with({"synth": SYNTHETIC})
    [result] = sync_sources(store, settings, observer=StopAfterTwo(), stop=stop)
    assert result.status is SyncStatus.FAILED
    assert result.batches == 2
    assert str(result.error).startswith("stopped before the sync finished")
    assert store.read_cursor(store.source_id("synth")) == {"runs_emitted": 10}
    [resumed] = sync_sources(store, settings)
    assert (resumed.status, resumed.batches) == (SyncStatus.OK, 3)


def test_a_sync_past_its_deadline_is_given_up_and_cannot_write_late(store: Store) -> None:
    settings = settings_with(
        {"drip": {"kind": "flaky", "hang_after": 1, "deadline": "1s"}, "synth": SYNTHETIC},
        deadline="1h",
    )
    began = time.monotonic()
    drip, synth = sync_sources(store, settings)
    assert time.monotonic() - began < 10
    assert synth.status is SyncStatus.OK  # never held up by the other
    assert drip.status is SyncStatus.FAILED
    assert drip.error == (
        "did not finish within 1s (the sync deadline, [sync] deadline); the next sync resumes "
        "after the last committed batch"
    )
    state = states(store)["drip"]
    assert (state.outcome, state.error, state.lease_owner) == ("failed", drip.error, None)
    assert "drip" in FlakyAdapter.closed  # a read that would never end is cut short
    # The abandoned fetch comes back with its next page: the lease is gone, so it is not kept.
    FlakyAdapter.release.set()
    time.sleep(1)
    assert "run-2" not in run_ids(store)
    assert store.read_cursor(store.source_id("drip")) == {"page": 1}
    assert states(store)["drip"].outcome == "failed"
    # The next sync resumes after the last committed page.
    [again] = sync_sources(store, settings, ["drip"])
    assert again.status is SyncStatus.OK, again.error
    assert {"run-2", "run-3"} <= set(run_ids(store))


def test_the_deadline_comes_from_the_source_or_the_sync_section() -> None:
    settings = settings_with({"a": {"kind": "flaky", "deadline": "90s"}, "b": {"kind": "flaky"}})
    assert settings.deadline(settings.sources["a"]) == timedelta(seconds=90)
    assert settings.deadline(settings.sources["b"]) == timedelta(minutes=30)


def test_the_scheduler_syncs_every_interval_until_stopped(store: Store) -> None:
    settings = settings_with(
        {"synth": SYNTHETIC, "flaky": {"kind": "flaky", "fail_after": 0}},
        default_interval="0.2s",
    )
    done: list[SyncResult] = []

    class Recorder:
        def start(self, source: str) -> None:
            pass

        def batch(self, source: str, stats: BatchStats) -> None:
            pass

        def done(self, source: str, result: SyncResult) -> None:
            done.append(result)

    async def scenario() -> None:
        scheduler = SyncScheduler(store, settings, observer=Recorder())
        task = asyncio.create_task(scheduler.run())
        deadline = time.monotonic() + 30
        while sum(r.source == "synth" for r in done) < 3 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        scheduler.stop()
        await asyncio.wait_for(task, timeout=30)

    asyncio.run(scenario())
    synced = [r for r in done if r.source == "synth"]
    assert len(synced) >= 3
    assert [r.batches for r in synced[:2]] == [5, 1]  # then only the definitions
    assert all(r.status is SyncStatus.FAILED for r in done if r.source == "flaky")
    assert counts(store)["run"] == 24


def test_cancelling_the_scheduler_ends_it(store: Store) -> None:
    settings = settings_with({"synth": SYNTHETIC | {"delay_s": 0.1}})

    async def scenario() -> None:
        task = asyncio.create_task(SyncScheduler(store, settings).run())
        await asyncio.sleep(0.3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=30)

    asyncio.run(scenario())
    state = states(store)["synth"]
    assert state.lease_owner is None  # the sync under way stopped and let go of its lease
    assert state.outcome in ("ok", "failed")


def test_the_scheduler_does_nothing_when_background_sync_is_off(store: Store) -> None:
    settings = parse_settings(
        {"server": {"sync_in_background": False}, "sources": {"synth": SYNTHETIC}}
    )
    asyncio.run(asyncio.wait_for(SyncScheduler(store, settings).run(), timeout=5))
    assert store.read_sources_with_state() == []


# -- crash safety ---------------------------------------------------------------------------


def _catalog(store: Store) -> dict[str, list[Any]]:
    """Every row of every catalog table, without the times rows were written at.

    The source's own row is left out too: its settings name ``delay_s``.
    """
    edges = SQLModel.metadata.tables["lineage_edge"].columns.keys()
    written = [edges.index("first_seen"), edges.index("last_seen")]
    rows = snapshot(store, skip=("source", *BOOKKEEPING))
    rows["lineage_edge"] = [
        tuple(v for i, v in enumerate(row) if i not in written) for row in rows["lineage_edge"]
    ]
    return rows


def _crash_config(tmp_path: Path, db: Path, delay_s: float) -> Path:
    options = "\n".join(f"{k} = {v!r}" for k, v in (SYNTHETIC | {"delay_s": delay_s}).items())
    config = tmp_path / f"crash-{delay_s}.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{db}"\n\n[sources.synth]\n{options}\n')
    return config


def _tempox(config: Path) -> list[str]:
    return [sys.executable, "-m", "api", "--config", str(config), "sync"]


def _batches_committed(db: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
            row = conn.execute("select batches from sync_state").fetchone()
    except sqlite3.Error:
        return 0  # not created or not migrated yet
    return int(row[0]) if row else 0


@pytest.mark.slow
def test_a_sync_killed_mid_way_resumes_without_loss_or_duplicates(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != DATABASE_URL_ENV}
    db = tmp_path / "crash.db"
    config = _crash_config(tmp_path, db, delay_s=0.5)
    victim = subprocess.Popen(
        _tempox(config), cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 60
        while _batches_committed(db) < 1:
            assert victim.poll() is None, victim.communicate()
            assert time.monotonic() < deadline, "no batch was committed within a minute"
            time.sleep(0.05)
        victim.send_signal(signal.SIGKILL)
    finally:
        victim.wait(timeout=30)  # reaped: a zombie would still count as running
    assert victim.returncode == -signal.SIGKILL
    crashed = Store(f"sqlite:///{db}")
    assert states(crashed)["synth"].outcome == "running"  # killed holding its lease
    assert counts(crashed)["run"] < 24

    rerun = subprocess.run(
        _tempox(config), cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert states(crashed)["synth"].outcome == "ok"

    clean = Store(f"sqlite:///{tmp_path / 'clean.db'}")
    [result] = sync_sources(clean, settings_with({"synth": SYNTHETIC}))
    assert result.status is SyncStatus.OK
    assert counts(crashed) == counts(clean)
    assert _catalog(crashed) == _catalog(clean)
    crashed.close()
    clean.close()


@pytest.mark.slow
def test_ctrl_c_stops_tempox_sync_at_once_and_leaves_no_source_running(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != DATABASE_URL_ENV}
    db = tmp_path / "interrupted.db"
    config = _crash_config(tmp_path, db, delay_s=60)  # a batch takes a minute: a slow source
    victim = subprocess.Popen(
        _tempox(config),
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        # As in a terminal: a pytest-xdist worker ignores SIGINT, and a child would inherit it.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.monotonic() + 60
        while _batches_committed(db) < 1:
            assert victim.poll() is None, victim.communicate()
            assert time.monotonic() < deadline, "no batch was committed within a minute"
            time.sleep(0.05)
        victim.send_signal(signal.SIGINT)
        interrupted = time.monotonic()
        victim.wait(timeout=30)
        stopped_after = time.monotonic() - interrupted
    finally:
        if victim.poll() is None:
            victim.kill()
            victim.wait()
    assert victim.returncode != 0
    assert stopped_after < 15  # not the minute the batch under way would take
    store = Store(f"sqlite:///{db}")
    state = states(store)["synth"]
    assert (state.outcome, state.lease_owner) == ("failed", None)
    assert state.error is not None
    assert state.error.startswith("interrupted before the sync finished")
    store.close()
