"""The sync engine: pull every source from its cursor into the store.

Per source: claim its lease (two workers never sync one source at once), read the cursor, write
each batch the adapter yields together with the cursor after it, release the lease saying how it
went. A crash between two batches loses nothing and duplicates nothing: the next sync resumes
from the last committed cursor, and writes are idempotent upserts. One failing source never
stops the others; its error is recorded on it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from datetime import timedelta

from catalog.adapter_pool import AdapterPool
from catalog.config import Settings, SourceSettings
from catalog.enums import SyncTrigger
from catalog.errors import ConfigError
from catalog.store.store import Store
from catalog.sync_job import Job, release_lease
from catalog.sync_types import (
    NullObserver,
    SyncObserver,
    SyncResult,
    make_owner,
)

__all__ = ["select_sources", "sync_source", "sync_sources"]

log = logging.getLogger("tempox.sync")


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
            release_lease(store, source.name, owner, INTERRUPTED)
        raise
    return [r for r in results if r is not None]


INTERRUPTED = (
    "interrupted before the sync finished; the next sync resumes after the last committed batch"
)


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
    job = Job(store, source, lease_ttl, observer, owner or make_owner(), stop, trigger)
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
