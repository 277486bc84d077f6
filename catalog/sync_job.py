"""One sync of one source: claim the lease, read through the adapter, write each batch, let go.

Used by :func:`catalog.sync.sync_source`, which documents what a sync guarantees.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from typing import Any

from catalog.adapter import Adapter, SyncHint
from catalog.adapter_pool import AdapterPool, close_adapter
from catalog.config import SourceSettings, format_duration
from catalog.enums import SyncTrigger
from catalog.errors import AdapterError, TempoxError
from catalog.records import Batch
from catalog.store.store import Store
from catalog.sync_pull import pull
from catalog.sync_types import (
    BatchStats,
    SyncInterrupted,
    SyncObserver,
    SyncStatus,
    describe,
    is_dead_local_process,
)

__all__ = ["Job", "release_lease"]

log = logging.getLogger("tempox.sync")
timing = logging.getLogger("tempox.sync.timing")


def release_lease(store: Store, name: str, owner: str, reason: str) -> None:
    """Release ``owner``'s lease on source ``name``, recording ``reason`` (no-op if not held)."""
    try:
        store.finish_sync(store.source_id(name), owner, reason)
    except Exception:
        log.warning("could not record that the sync of %s ended", name, exc_info=True)


class Job:
    """One sync of one source (see :func:`catalog.sync.sync_source`)."""

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
        release_lease(self.store, self.source.name, self.owner, reason)
        adapter = self.adapter
        if adapter is not None:
            closing = threading.Thread(
                target=close_adapter, args=(self.source.name, adapter), daemon=True
            )
            closing.start()

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
                    close_adapter(self.source.name, kept)

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
        close_adapter(self.source.name, adapter)
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
