"""Counts the syncs this process runs (the background scheduler's), as they finish."""

from __future__ import annotations

from api.metrics.instruments import SYNC_DURATION, SYNC_RECORDS, SYNCS
from catalog.sync_types import BatchStats, SyncResult

__all__ = ["SyncMetrics"]


class SyncMetrics:
    """A :class:`catalog.sync.SyncObserver` that counts outcomes, durations and records."""

    def start(self, source: str) -> None:
        pass

    def batch(self, source: str, stats: BatchStats) -> None:
        SYNC_RECORDS.labels(source).inc(stats.records)

    def done(self, source: str, result: SyncResult) -> None:
        SYNCS.labels(source, result.status.value).inc()
        SYNC_DURATION.labels(source).observe(result.seconds)
