"""Where alerting runs: in the process that syncs, after each sync and on a clock.

:class:`AlertService` evaluates the rules when a sync ends (it is the sync scheduler's
observer) and every ``[alerts] interval`` (freshness turns stale with no sync at all), and
delivers the outbox from one worker thread per destination. Across replicas, one evaluates
at a time (a lease in the database); every replica may deliver, each claim being exclusive.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from catalog.alerts.engine import AlertEngine, Evaluation
from catalog.alerts.outbox import Dispatcher
from catalog.alerts.settings import AlertSettings
from catalog.service import Catalog
from catalog.store import alerts as sql
from catalog.store.store import Store, utcnow
from catalog.sync_types import (
    BatchStats,
    NullObserver,
    SyncObserver,
    SyncResult,
    is_dead_local_process,
    make_owner,
)

__all__ = ["AlertService", "SyncAlerts"]

log = logging.getLogger("tempox.alerts")

LEASE = "evaluator"


class SyncAlerts:
    """A sync observer that asks for an evaluation when a source's sync ends, after passing
    every event on to ``also`` (the metrics' observer, say)."""

    def __init__(self, service: AlertService, also: SyncObserver | None = None) -> None:
        self.service = service
        self.also = also or NullObserver()

    def start(self, source: str) -> None:
        self.also.start(source)

    def batch(self, source: str, stats: BatchStats) -> None:
        self.also.batch(source, stats)

    def done(self, source: str, result: SyncResult) -> None:
        self.also.done(source, result)
        self.service.poke()


class AlertService:
    def __init__(
        self,
        store: Store,
        settings: AlertSettings,
        *,
        catalog: Catalog | None = None,
        clock: Callable[[], datetime] = utcnow,
        dispatcher: Dispatcher | None = None,
        owner: str | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock
        self.owner = owner or make_owner()
        self.catalog = catalog or Catalog(store, clock=clock)
        self.engine = AlertEngine(self.catalog, settings, clock=clock)
        self.dispatcher = dispatcher or Dispatcher(store, settings, self.owner, clock=clock)
        self._poked = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def enabled(self) -> bool:
        return bool(self.settings.rules or self.settings.destinations)

    def observer(self, also: SyncObserver | None = None) -> SyncAlerts:
        return SyncAlerts(self, also)

    def evaluate(self) -> Evaluation | None:
        """Evaluate once if this process holds the evaluator's lease (None: another does)."""
        ttl = max(self.settings.interval * 3, timedelta(minutes=1))
        with self.store.transaction() as conn:
            won = sql.try_lease(conn, LEASE, self.owner, self.clock(), ttl)
            holder = None if won else sql.read_lease_owner(conn, LEASE)
            if holder is not None and is_dead_local_process(holder):
                # Its process was killed on this host: its turn passes now, not at expiry.
                won = sql.try_lease(conn, LEASE, self.owner, self.clock(), ttl, replacing=holder)
            if not won:
                return None
        result = self.engine.evaluate()
        if result.notifications:
            self.dispatcher.wake()
        return result

    @property
    def evaluation_requested(self) -> bool:
        return self._poked.is_set()

    def poke(self) -> None:
        """Evaluate soon (a sync ended); from any thread."""
        self._poked.set()

    def start(self) -> None:
        """Start delivering and evaluating in background threads."""
        if not self.enabled or self._thread is not None:
            return
        self.dispatcher.start()
        self._thread = threading.Thread(target=self._loop, name="tempox-alerts", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._poked.set()
        if self._thread is not None:
            self._thread.join(10)
        self.dispatcher.stop()
        try:
            with self.store.transaction() as conn:
                sql.release_lease(conn, LEASE, self.owner)
        except Exception:
            log.warning("could not release the alert evaluator's lease", exc_info=True)

    async def run(self) -> None:
        """For an app's lifespan: run until cancelled."""
        if not self.enabled:
            return
        self.start()
        try:
            await asyncio.Event().wait()
        finally:
            await asyncio.to_thread(self.stop)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._poked.clear()
            try:
                self.evaluate()
            except Exception:
                log.warning("alert evaluation failed", exc_info=True)
            self._poked.wait(self.settings.interval.total_seconds())
