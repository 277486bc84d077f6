"""Adapters kept open between the syncs of their source.

A long-lived sync worker (the server's scheduler) syncs each source again and again, often
seconds apart when pushes come in. Opening an adapter afresh for each sync signs in again,
builds its HTTP client again and forgets its connection pool; kept open, a pushed sync goes
straight to its first request. A sync takes its source's adapter out of the pool for as long as
it runs (no two syncs ever share one) and gives it back when it ends; an adapter whose sync
failed is closed instead, so the next sync starts from a new sign-in and new connections.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from catalog.adapter import Adapter
from catalog.config import SourceSettings

__all__ = ["AdapterPool", "close_adapter"]

log = logging.getLogger("tempox.sync")


class AdapterPool:
    """Open adapters by source, for :func:`catalog.sync.sync_source` to reuse; thread-safe.

    :meth:`close` (at shutdown) closes every adapter kept, and any given back after it.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: dict[str, tuple[SourceSettings, Adapter[Any]]] = {}
        self._closed = False

    def take(self, source: SourceSettings) -> tuple[Adapter[Any], bool]:
        """The source's kept adapter and True, or a new one and False (also when the source's
        settings changed since it was kept). Raises what ``create_adapter`` raises."""
        with self._lock:
            kept = self._idle.pop(source.name, None)
        if kept is not None:
            if kept[0] == source:
                return kept[1], True
            close_adapter(source.name, kept[1])
        return source.create_adapter(), False

    def give_back(self, source: SourceSettings, adapter: Adapter[Any], *, healthy: bool) -> None:
        """Keep ``adapter`` for the source's next sync, or close it when its sync failed (or
        the pool is closed)."""
        if healthy:
            with self._lock:
                if not self._closed and source.name not in self._idle:
                    self._idle[source.name] = (source, adapter)
                    return
        close_adapter(source.name, adapter)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, {}
        for name, (_, adapter) in idle.items():
            close_adapter(name, adapter)


def close_adapter(name: str, adapter: Adapter[Any]) -> None:
    """Close ``adapter`` of source ``name``; a failure is logged, never raised."""
    try:
        adapter.close()
    except Exception:
        log.warning("closing the adapter of %s failed", name, exc_info=True)
