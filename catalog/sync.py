"""The sync engine: pull every source from its cursor into the store.

Per source: claim its lease (two workers never sync one source at once), read the cursor, write
each batch the adapter yields together with the cursor after it, release the lease saying how it
went. A crash between two batches loses nothing and duplicates nothing: the next sync resumes
from the last committed cursor, and writes are idempotent upserts. One failing source never
stops the others; its error is recorded on it.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any, Protocol

from catalog.adapter import Adapter, SyncHint
from catalog.adapter_pool import AdapterPool
from catalog.config import Settings, SourceSettings, format_duration
from catalog.enums import SyncTrigger
from catalog.errors import AdapterError, ConfigError, TempoxError
from catalog.records import Batch, Cursor
from catalog.secrets import redact
from catalog.store.store import Store
from catalog.sync_pull import pull

__all__ = [
    "BatchStats",
    "NullObserver",
    "SyncInterrupted",
    "SyncObserver",
    "SyncResult",
    "SyncStatus",
    "describe",
    "is_dead_local_process",
    "make_owner",
    "select_sources",
    "sync_source",
    "sync_sources",
]

log = logging.getLogger("tempox.sync")
timing = logging.getLogger("tempox.sync.timing")


class SyncStatus(StrEnum):
    OK = "ok"
    FAILED = "failed"
    SKIPPED = "skipped"  # another worker holds the source's lease


@dataclass(frozen=True, slots=True)
class BatchStats:
    """One committed batch, and the sync's totals so far."""

    batches: int
    records: int  # in this batch
    total_records: int
    runs: int  # in this batch
    cursor: Cursor


@dataclass(frozen=True, slots=True)
class SyncResult:
    source: str
    kind: str
    status: SyncStatus
    batches: int = 0
    records: int = 0
    seconds: float = 0.0
    error: str | None = None
    sync_id: str | None = None  # None: the sync never held the lease
    trigger: SyncTrigger | None = None

    @property
    def ok(self) -> bool:
        return self.status is not SyncStatus.FAILED


class SyncObserver(Protocol):
    """Follows syncs as they go (a progress bar, metrics). Called from worker threads."""

    def start(self, source: str) -> None: ...

    def batch(self, source: str, stats: BatchStats) -> None: ...

    def done(self, source: str, result: SyncResult) -> None: ...


class NullObserver:
    def start(self, source: str) -> None:
        pass

    def batch(self, source: str, stats: BatchStats) -> None:
        pass

    def done(self, source: str, result: SyncResult) -> None:
        pass


class SyncInterrupted(TempoxError):
    """The sync was asked to stop; batches committed so far stay, the next sync resumes."""


def make_owner() -> str:
    """A lease owner name, unique per sync worker: ``host:pid:token``."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def sync_sources(
    store: Store,
    settings: Settings,
    names: Sequence[str] | None = None,
    observer: SyncObserver | None = None,
    *,
    stop: threading.Event | None = None,
    trigger: SyncTrigger = SyncTrigger.MANUAL,
) -> list[SyncResult]:
    """Sync the enabled sources (or the ones named, enabled or not), concurrently.

    Returns one result per source, in configuration order. Never raises for a source's failure;
    raises :class:`ConfigError` when ``names`` has a source the configuration does not. Each
    source's sync ends by its deadline (``[sync] deadline``). Interrupted (Ctrl-C), it returns
    at once, every source it was syncing marked failed ("interrupted"), not left running.
    """
    sources = select_sources(settings, names)
    if not sources:
        return []
    observer = observer or NullObserver()
    stop = stop or threading.Event()
    slots = threading.Semaphore(min(settings.sync.concurrency, len(sources)))
    owners = [make_owner() for _ in sources]
    results: list[SyncResult | None] = [None] * len(sources)

    def work(i: int) -> None:
        with slots:
            if stop.is_set():
                return
            results[i] = sync_source(
                store,
                sources[i],
                lease_ttl=settings.sync.lease_ttl,
                deadline=settings.deadline(sources[i]),
                observer=observer,
                owner=owners[i],
                stop=stop,
                trigger=trigger,
            )

    # Daemon threads, not a pool: a worker stuck in a read that never ends must not keep the
    # process from exiting once its sync has been given up.
    workers = [
        threading.Thread(target=work, args=(i,), name=f"tempox-sync-{i}", daemon=True)
        for i in range(len(sources))
    ]
    for worker in workers:
        worker.start()
    try:
        for worker in workers:
            worker.join()
    except BaseException:
        # Ctrl-C reaches only this thread: the workers stop after their batch, and no source
        # stays marked running meanwhile (their leases go now; a late batch is refused).
        stop.set()
        for source, owner in zip(sources, owners, strict=True):
            _give_up(store, source.name, owner, INTERRUPTED)
        raise
    return [r for r in results if r is not None]


INTERRUPTED = (
    "interrupted before the sync finished; the next sync resumes after the last committed batch"
)


def _give_up(store: Store, name: str, owner: str, reason: str) -> None:
    """Release ``owner``'s lease on source ``name``, recording ``reason`` (no-op if not held)."""
    try:
        store.finish_sync(store.source_id(name), owner, reason)
    except Exception:
        log.warning("could not record that the sync of %s ended", name, exc_info=True)


def select_sources(settings: Settings, names: Sequence[str] | None) -> list[SourceSettings]:
    """The enabled sources, or those named; :class:`ConfigError` names an unknown one."""
    if not names:
        return settings.enabled_sources()
    unknown = [n for n in names if n not in settings.sources]
    if unknown:
        where = f" in {settings.path}" if settings.path else ""
        configured = ", ".join(settings.sources) or "none"
        raise ConfigError(
            f"no source named {', '.join(map(repr, unknown))}{where} (configured: {configured})"
        )
    return [settings.sources[n] for n in dict.fromkeys(names)]


def sync_source(
    store: Store,
    source: SourceSettings,
    *,
    lease_ttl: timedelta,
    deadline: timedelta | None = None,
    observer: SyncObserver | None = None,
    owner: str | None = None,
    stop: threading.Event | None = None,
    trigger: SyncTrigger = SyncTrigger.MANUAL,
    only_requested: bool = False,
    adapters: AdapterPool | None = None,
) -> SyncResult:
    """Sync one source; the result says how it went, and so does the source's sync state.

    With ``deadline``, the sync is given up when it runs longer: the result and the source say
    so, the lease is released at once, and whatever the adapter is still waiting for can no
    longer be written (a late batch finds the lease gone).

    ``trigger`` says what started it; a sync that takes a pending push request (see
    :mod:`catalog.sync_triggers`) is a push's, serves it under its id and reads the runs the
    push named first. With ``only_requested``, it syncs only if a push still waits (it is
    skipped when another worker served it meanwhile). With ``adapters``, the source's adapter
    comes from that pool and goes back to it (its sign-in and connections kept for the next
    sync) unless the sync failed.
    """
    observer = observer or NullObserver()
    job = _Job(store, source, lease_ttl, observer, owner or make_owner(), stop, trigger)
    job.only_requested = only_requested
    job.pool = adapters
    began = time.monotonic()
    observer.start(source.name)
    status, error = job.run_within(deadline)
    result = SyncResult(
        source.name,
        source.kind,
        status,
        job.batches,
        job.records,
        time.monotonic() - began,
        error,
        job.sync_id,
        job.trigger if job.sync_id is not None else None,
    )
    observer.done(source.name, result)
    return result


def describe(exc: BaseException) -> str:
    """An error as one line for people: Tempox's own messages as they are, others typed; any
    secret in it masked (:func:`catalog.secrets.redact`)."""
    if isinstance(exc, TempoxError):
        return redact(str(exc))
    lines = str(exc).strip().splitlines()
    # SQLAlchemy and HTTP errors append the statement or body on later lines.
    return redact(f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__)


class _Job:
    def __init__(
        self,
        store: Store,
        source: SourceSettings,
        lease_ttl: timedelta,
        observer: SyncObserver,
        owner: str,
        stop: threading.Event | None,
        trigger: SyncTrigger,
    ) -> None:
        self.store = store
        self.source = source
        self.lease_ttl = lease_ttl
        self.observer = observer
        self.owner = owner
        self.stop = stop
        self.batches = 0
        self.records = 0
        self.given_up = threading.Event()
        self.adapter: Adapter[Any] | None = None
        self.trigger = trigger
        self.sync_id: str | None = None
        self.hints: tuple[SyncHint, ...] = ()
        self.only_requested = False
        self.pool: AdapterPool | None = None
        self.reused = False  # the adapter comes from the pool, opened by an earlier sync

    def run_within(self, deadline: timedelta | None) -> tuple[SyncStatus, str | None]:
        if deadline is None:
            return self.run_safely()
        outcome: list[tuple[SyncStatus, str | None]] = []
        worker = threading.Thread(
            target=lambda: outcome.append(self.run_safely()),
            name=f"tempox-sync-{self.source.name}",
            daemon=True,
        )
        worker.start()
        worker.join(deadline.total_seconds())
        if outcome:
            return outcome[0]
        reason = (
            f"did not finish within {format_duration(deadline)} (the sync deadline, [sync] "
            "deadline); the next sync resumes after the last committed batch"
        )
        self.give_up(reason)
        return SyncStatus.FAILED, reason

    def give_up(self, reason: str) -> None:
        """Stop waiting for this sync: release the lease now, and close the adapter so that a
        read that would never end fails (it is left to finish on its own thread)."""
        self.given_up.set()
        log.warning("sync of %s: %s", self.source.name, reason)
        _give_up(self.store, self.source.name, self.owner, reason)
        adapter = self.adapter
        if adapter is not None:
            threading.Thread(target=_close, args=(self.source.name, adapter), daemon=True).start()

    def run_safely(self) -> tuple[SyncStatus, str | None]:
        try:
            return self.run()
        except Exception as exc:
            # Only the store gets here (the database is down): there is nowhere to record it.
            log.warning("sync of %s failed: %s", self.source.name, describe(exc), exc_info=True)
            return SyncStatus.FAILED, describe(exc)

    def run(self) -> tuple[SyncStatus, str | None]:
        timing.debug("sync job starts: %s", self.source.name)
        adapter: Adapter[Any] | None = None
        error = None
        try:
            if self.pool is not None:
                adapter, self.reused = self.pool.take(self.source)
            else:
                adapter = self.source.create_adapter()
        except Exception as exc:
            error = describe(exc)  # recorded on the source, like any failure
        self.adapter = adapter
        status = SyncStatus.FAILED
        try:
            status, error = self._run(adapter, error)
            return status, error
        finally:
            kept = self.adapter  # a new one when the kept one failed and was replaced
            if kept is not None:
                if self.pool is not None:
                    healthy = status is not SyncStatus.FAILED and not self.given_up.is_set()
                    self.pool.give_back(self.source, kept, healthy=healthy)
                else:
                    _close(self.source.name, kept)

    def _run(
        self, adapter: Adapter[Any] | None, error: str | None
    ) -> tuple[SyncStatus, str | None]:
        name, store = self.source.name, self.store
        source_id = store.ensure_source(
            name,
            self.source.kind,
            base_url=adapter.base_url if adapter is not None else None,
            settings=self.source.public_settings(),
        )
        if not self._claim(source_id):
            if self.only_requested and not store.sync_requested(source_id):
                return SyncStatus.SKIPPED, "no push waits: another worker served it"
            holder = store.read_lease_owner(source_id) or "another worker"
            return SyncStatus.SKIPPED, f"already being synced by {holder}"
        if self.given_up.is_set():  # claimed after the deadline passed: let go at once
            store.finish_sync(source_id, self.owner, "given up before it started")
            return SyncStatus.FAILED, "given up before it started"
        try:
            if adapter is not None:
                self._pull(source_id, adapter)
        except Exception as exc:
            error = describe(exc)
            if isinstance(exc, TempoxError):
                log.info("sync of %s failed: %s", name, error)
            else:
                log.warning("sync of %s failed: %s", name, error, exc_info=True)
        except BaseException:
            # Ctrl-C: release the lease, so the next `tempox sync` need not wait for it.
            store.finish_sync(source_id, self.owner, "interrupted before the sync finished")
            raise
        store.finish_sync(source_id, self.owner, error)
        return (SyncStatus.OK, None) if error is None else (SyncStatus.FAILED, error)

    def _claim(self, source_id: int) -> bool:
        store = self.store
        claim = store.claim_sync(
            source_id,
            self.owner,
            self.lease_ttl,
            self.trigger,
            only_requested=self.only_requested,
        )
        if claim is None:
            holder = store.read_lease_owner(source_id)
            if holder is None or not is_dead_local_process(holder):
                return False
            # A sync killed on this host (SIGKILL, power cut) left its lease behind; its
            # batches are committed and its cursor with them, so taking over loses nothing.
            log.info(
                "%s: taking over the lease of %s, which is no longer running",
                self.source.name,
                holder,
            )
            claim = store.claim_sync(
                source_id,
                self.owner,
                self.lease_ttl,
                self.trigger,
                replacing=holder,
                only_requested=self.only_requested,
            )
            if claim is None:
                return False
        timing.debug("lease claimed: %s (%d hints)", self.source.name, len(claim.hints))
        self.sync_id, self.trigger = claim.sync_id, claim.trigger
        self.hints = tuple(SyncHint.from_json(h) for h in claim.hints)
        return True

    def _pull(self, source_id: int, adapter: Adapter[Any]) -> None:
        """The sync's reads (:func:`catalog.sync_pull.pull`); once more with a new adapter
        when a kept one fails before anything was written (its sign-in or connections may
        have gone stale while it waited: a server restarted, a session revoked)."""

        def write(batch: Batch, move_cursor: bool) -> None:
            self._write(source_id, batch, move_cursor)

        try:
            pull(self.store, source_id, self.source.name, adapter, self.hints, write)
            return
        except AdapterError as exc:
            if not self.reused or self.batches or self.given_up.is_set():
                raise
            log.info(
                "sync of %s: the kept connection failed (%s); again with a new one",
                self.source.name,
                describe(exc),
            )
        self.adapter, self.reused = None, False
        _close(self.source.name, adapter)
        adapter = self.source.create_adapter()
        self.adapter = adapter
        pull(self.store, source_id, self.source.name, adapter, self.hints, write)

    def _write(self, source_id: int, batch: Batch, move_cursor: bool = True) -> None:
        self.store.write_batch(
            source_id, batch, lease_ttl=self.lease_ttl, owner=self.owner, move_cursor=move_cursor
        )
        size = batch.size()
        self.batches += 1
        self.records += size
        stats = BatchStats(self.batches, size, self.records, len(batch.runs), batch.cursor)
        self.observer.batch(self.source.name, stats)
        if self.given_up.is_set() or (self.stop is not None and self.stop.is_set()):
            raise SyncInterrupted(
                "stopped before the sync finished; the next sync resumes after the last "
                "committed batch"
            )


def _close(name: str, adapter: Adapter[Any]) -> None:
    try:
        adapter.close()
    except Exception:
        log.warning("closing the adapter of %s failed", name, exc_info=True)


def is_dead_local_process(owner: str) -> bool:
    """True when ``owner`` (``host:pid:token``) names a process of this host that is gone."""
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if os.name != "posix" or host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return True
    except OSError:
        return False  # it exists but is not ours to signal
    return False


def __getattr__(name: str) -> Any:
    # The scheduler moved to catalog.sync_triggers; old imports keep working.
    if name == "SyncScheduler":
        from catalog.sync_triggers import SyncScheduler

        return SyncScheduler
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
