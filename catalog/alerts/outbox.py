"""Delivering the outbox: at least once, with backoff, one worker thread per destination.

Each destination's worker claims its due notifications (a claim runs out, so one held by a
process that died is claimed again), sends them one at a time and records each attempt: sent,
retried later (backoff doubling from ``retry_min`` to ``retry_max``), or dropped (the service
refused it as invalid, or it is older than ``give_up_after``). A destination that is down
delays only its own notifications; syncing and the other destinations go on.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from catalog.alerts import metrics
from catalog.alerts.destinations import (
    DeliveryError,
    Destination,
    Notification,
    build_destination,
)
from catalog.alerts.settings import AlertSettings
from catalog.secrets import redact
from catalog.store import alerts as sql
from catalog.store.store import Store, utcnow

__all__ = ["Dispatcher", "backoff"]

log = logging.getLogger("tempox.alerts")

BATCH = 20
POLL = timedelta(seconds=1)  # how often a worker looks for due notifications


def backoff(attempt: int, first: timedelta, longest: timedelta) -> timedelta:
    """The wait after the ``attempt``-th failure (1, 2 …): doubling, at most ``longest``."""
    wait: timedelta = first * (2 ** min(attempt - 1, 30))
    return min(longest, wait)


class Dispatcher:
    def __init__(
        self,
        store: Store,
        settings: AlertSettings,
        owner: str,
        *,
        destinations: Mapping[str, Destination] | None = None,
        clock: Callable[[], datetime] = utcnow,
        poll: timedelta = POLL,
    ) -> None:
        self.store = store
        self.settings = settings
        self.owner = owner
        self.clock = clock
        self.poll = poll
        self.destinations = (
            dict(destinations)
            if destinations is not None
            else {d.name: build_destination(d) for d in settings.destinations}
        )
        self._stop = threading.Event()
        self._wake = {name: threading.Event() for name in self.destinations}
        self._threads: list[threading.Thread] = []

    def deliver_due(self, name: str) -> int:
        """Send what is due for destination ``name`` now; returns how many were attempted."""
        destination = self.destinations[name]
        now = self.clock()
        hold = destination.settings.timeout * 2 + timedelta(seconds=30)
        with self.store.transaction() as conn:
            due = sql.claim_due(conn, name, self.owner, now, hold, BATCH)
        for d in due:
            if self._stop.is_set():
                break  # the claim runs out; whoever runs next sends it
            self._attempt(destination, d)
        return len(due)

    def deliver_all(self) -> int:
        """One pass over every destination (``tempox sync`` and tests)."""
        return sum(self.deliver_due(name) for name in self.destinations)

    def _attempt(self, destination: Destination, d: sql.Delivery) -> None:
        try:
            destination.send(Notification(d.id, d.action, d.payload))
        except Exception as exc:
            now = self.clock()
            permanent = isinstance(exc, DeliveryError) and exc.permanent
            error = str(exc) if isinstance(exc, DeliveryError) else f"{type(exc).__name__}: {exc}"
            error = redact(error)
            metrics.FAILED.labels(destination=destination.name).inc()
            old = now - d.created_at >= self.settings.give_up_after
            wait = backoff(d.attempts + 1, self.settings.retry_min, self.settings.retry_max)
            state = "dropped" if permanent or old else "pending"
            log.warning(
                "alert %s to %s: %s (%s)",
                d.alert_id,
                destination.name,
                error,
                "given up" if state == "dropped" else f"retrying in {wait.total_seconds():g}s",
            )
            with self.store.transaction() as conn:
                sql.finish_delivery(
                    conn,
                    d.id,
                    self.owner,
                    state=state,
                    now=now,
                    next_attempt_at=now + wait,
                    error=error,
                )
            return
        metrics.SENT.labels(destination=destination.name).inc()
        with self.store.transaction() as conn:
            sql.finish_delivery(conn, d.id, self.owner, state="sent", now=self.clock())

    # -- worker threads -------------------------------------------------------------------------

    def start(self) -> None:
        for name in self.destinations:
            thread = threading.Thread(
                target=self._work, args=(name,), name=f"tempox-alerts-{name}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def wake(self) -> None:
        for event in self._wake.values():
            event.set()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self.wake()
        for thread in self._threads:
            thread.join(timeout)
        for destination in self.destinations.values():
            destination.close()

    def _work(self, name: str) -> None:
        wake = self._wake[name]
        while not self._stop.is_set():
            wake.clear()
            try:
                busy = self.deliver_due(name) >= BATCH
            except Exception:
                log.warning("alert delivery to %s failed", name, exc_info=True)
                busy = False
            if not busy:
                wake.wait(self.poll.total_seconds())
