"""When sources sync: every interval, and at once when their orchestrator pushes.

A push (``POST /api/v1/sources/{name}/sync``) is recorded on the source's sync state in the
store (:mod:`catalog.store.sync_requests`) and wakes this process's scheduler. Pushes that
arrive before a sync starts share that sync; one that arrives while a sync runs gets one
follow-up sync after it, never a second sync at once: the lease still decides who syncs, and
whichever worker takes the lease next — on any replica sharing the database — takes the
request with it. The interval stays as the safety net for pushes that never come.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from catalog.adapter import SyncHint
from catalog.adapter_pool import AdapterPool
from catalog.config import Settings, SourceSettings
from catalog.enums import SyncTrigger
from catalog.errors import NotFoundError, TempoxError
from catalog.store.store import Store
from catalog.sync import sync_source
from catalog.sync_types import NullObserver, SyncObserver, SyncResult, SyncStatus

__all__ = ["PUSH_RETRY_S", "PushAccepted", "SourceDisabled", "SyncScheduler", "request_sync"]

log = logging.getLogger("tempox.sync")
timing = logging.getLogger("tempox.sync.timing")

# How soon a replica that was pushed, but found another worker syncing the source, looks again:
# the holder runs the follow-up itself when it is a scheduler; a `tempox sync` is not.
PUSH_RETRY_S = 1.0


class SourceDisabled(TempoxError):
    """The pushed source is configured but ``enabled = false``: nothing would sync it."""


@dataclass(frozen=True, slots=True)
class PushAccepted:
    """A push recorded: the id of the sync that serves it, and whether a sync was under way
    (this one then follows it)."""

    source: str
    sync_id: str
    follows_running_sync: bool


def request_sync(
    store: Store, settings: Settings, name: str, hints: Sequence[SyncHint] = ()
) -> PushAccepted:
    """Record a push for source ``name``; the next sync to start serves it.

    Raises :class:`NotFoundError` naming a source the configuration lacks and
    :class:`SourceDisabled` for a disabled one. Blocking (one or two statements): call it off
    the event loop.
    """
    source = settings.sources.get(name)
    if source is None:
        configured = ", ".join(sorted(settings.sources)) or "none"
        raise NotFoundError(f"no source named {name!r} (configured: {configured})")
    if not source.enabled:
        raise SourceDisabled(
            f"source {name!r} is disabled ([sources.{name}] enabled = false): nothing syncs it"
        )
    try:
        source_id = store.source_id(name)
    except NotFoundError:  # configured but never synced yet
        source_id = store.ensure_source(name, source.kind, settings=source.public_settings())
    recorded = store.request_sync(source_id, [h.to_json() for h in hints if h.to_json()])
    if recorded is None:  # the source row was deleted between the two calls
        raise NotFoundError(f"no source named {name!r}")
    return PushAccepted(name, recorded.sync_id, recorded.running)


class SyncScheduler:
    """Syncs every enabled source every its interval, and when pushed, for as long as
    :meth:`run` runs.

    ``SyncScheduler(store, settings, observer=None)``, then ``await scheduler.run()`` in the
    server's event loop (an app lifespan task); it returns at once when
    ``settings.server.sync_in_background`` is off. Each source syncs at start, then ``interval``
    (``[sources.<name>] interval``, else ``[sync] default_interval``) after its last sync ended;
    at most ``[sync] concurrency`` at once, in worker threads, so the loop never blocks.
    :meth:`push` records a push and starts the source's sync now, or right after the one
    under way; pushed syncs of a source start ``[sync] push_min_gap`` apart at least, so a
    burst is one sync and one follow-up.

    :meth:`stop` (from any thread) or cancelling the task ends it: a sync under way finishes
    the batch it is writing and stops (the next sync resumes from there); ``run`` waits up to
    ``shutdown_grace`` seconds for that. Each source's adapter stays open from one of its
    syncs to the next (:class:`~catalog.adapter_pool.AdapterPool`) and is closed when ``run``
    returns.
    """

    def __init__(
        self,
        store: Store,
        settings: Settings,
        *,
        observer: SyncObserver | None = None,
        shutdown_grace: float = 30.0,
    ) -> None:
        self.store = store
        self.settings = settings
        self.observer = observer or NullObserver()
        self.shutdown_grace = shutdown_grace
        self._stopping = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._pushed: set[str] = set()  # touched only on the loop's thread
        # Sources to look at again for a push another worker was syncing when it came: their
        # next sync runs only if the push still waits.
        self._retrying: set[str] = set()
        # Each source's adapter stays open between its syncs (sign-in, connections): a pushed
        # sync sends its first request at once. Closed when run() ends.
        self._adapters = AdapterPool()

    @property
    def running(self) -> bool:
        """Whether this scheduler is syncing in the background (pushes start syncs at once)."""
        return self._loop is not None and not self._stopping.is_set()

    def push(self, name: str, hints: Sequence[SyncHint] = ()) -> PushAccepted:
        """Record a push (:func:`request_sync`) and wake the scheduler. Blocking; any thread."""
        timing.debug("push received: %s %s", name, [h.to_json() for h in hints])
        accepted = request_sync(self.store, self.settings, name, hints)
        timing.debug("push recorded: %s", name)
        loop = self._loop
        if loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop has closed already
                loop.call_soon_threadsafe(self._pushed_now, name)
        return accepted

    def _pushed_now(self, name: str) -> None:
        timing.debug("scheduler told of the push: %s", name)
        self._pushed.add(name)
        if self._wake is not None:
            self._wake.set()

    def stop(self) -> None:
        self._stopping.set()
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None:
            with contextlib.suppress(RuntimeError):  # the loop has closed already
                loop.call_soon_threadsafe(wake.set)

    async def run(self) -> None:
        if not self.settings.server.sync_in_background:
            log.info("background sync is off ([server] sync_in_background, or --no-sync)")
            return
        loop = asyncio.get_running_loop()
        self._loop, self._wake = loop, asyncio.Event()
        sources = self.settings.enabled_sources()
        if not sources:
            log.info("background sync: no enabled sources")
        due = {s.name: loop.time() for s in sources}
        began = {s.name: float("-inf") for s in sources}
        gap = self.settings.sync.push_min_gap.total_seconds()
        running: dict[str, asyncio.Future[tuple[SyncResult, bool]]] = {}
        workers = max(1, min(self.settings.sync.concurrency, len(sources)))
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tempox-scheduler")
        try:
            while not self._stopping.is_set():
                self._wake.clear()
                pushed, self._pushed = self._pushed, set()
                for source in sources:
                    future = running.get(source.name)
                    if future is not None and future.done():
                        del running[source.name]
                        wait = self._next_in(source, future)
                        # A follow-up for a push keeps its distance from the sync before.
                        soonest = began[source.name] + gap if wait == 0 else loop.time()
                        due[source.name] = max(loop.time() + wait, soonest)
                    if source.name in pushed and source.name not in running:
                        due[source.name] = min(
                            due[source.name], max(loop.time(), began[source.name] + gap)
                        )
                        self._retrying.discard(source.name)
                    # Pushed while running: the sync's end finds the request in the store.
                    if source.name not in running and due[source.name] <= loop.time():
                        timing.debug("sync starts: %s", source.name)
                        running[source.name] = self._start(loop, pool, source)
                        began[source.name] = loop.time()
                idle = [due[s.name] for s in sources if s.name not in running]
                timeout = max(0.0, min(idle) - loop.time()) if idle else None
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(timeout):
                        await self._wake.wait()
        finally:
            self._stopping.set()
            if running:
                await asyncio.wait(running.values(), timeout=self.shutdown_grace)
            pool.shutdown(wait=False, cancel_futures=True)
            self._adapters.close()  # a sync still running closes its own when it ends

    def _start(
        self, loop: asyncio.AbstractEventLoop, pool: ThreadPoolExecutor, source: SourceSettings
    ) -> asyncio.Future[tuple[SyncResult, bool]]:
        retry = source.name in self._retrying
        self._retrying.discard(source.name)
        future = loop.run_in_executor(pool, functools.partial(self._sync, source, retry))
        wake = self._wake
        if wake is not None:
            future.add_done_callback(lambda _: wake.set())
        return future

    def _sync(self, source: SourceSettings, retry: bool) -> tuple[SyncResult, bool]:
        """One sync, then whether a push is waiting for the next (read after the lease went,
        so a push that came while this sync ran is never missed)."""
        result = sync_source(
            self.store,
            source,
            lease_ttl=self.settings.sync.lease_ttl,
            deadline=self.settings.deadline(source),
            observer=self.observer,
            stop=self._stopping,
            trigger=SyncTrigger.INTERVAL,
            only_requested=retry,
            adapters=self._adapters,
        )
        try:
            requested = self.store.sync_requested(self.store.source_id(source.name))
        except Exception:
            log.warning("could not read whether %s was pushed", source.name, exc_info=True)
            requested = False
        return result, requested

    def _next_in(
        self, source: SourceSettings, future: asyncio.Future[tuple[SyncResult, bool]]
    ) -> float:
        """Seconds until the source's next sync, logging how the last one went."""
        interval = self.settings.interval(source).total_seconds()
        try:
            result, requested = future.result()
        except Exception:  # sync_source records failures itself; this would be a bug
            log.exception("background sync of %s crashed", source.name)
            return interval
        _log(result)
        if not requested:
            return interval
        # A push is waiting: the follow-up now; or, when another worker held the lease, a look
        # again soon (that worker may be a `tempox sync`, which runs no follow-up).
        if result.status is not SyncStatus.SKIPPED:
            return 0.0
        if interval > PUSH_RETRY_S:
            self._retrying.add(source.name)
        return min(PUSH_RETRY_S, interval)


def _log(result: SyncResult) -> None:
    if result.status is SyncStatus.OK:
        log.info(
            "synced %s (%s): %d records in %d batches, %.1fs",
            result.source,
            result.trigger,
            result.records,
            result.batches,
            result.seconds,
        )
    else:
        log.info("sync of %s %s: %s", result.source, result.status, result.error)
