"""The catalog's health as ``/metrics`` shows it, read from the store at the moment of asking.

Read from the store rather than counted in the process, so every replica answers the same, a
restart forgets nothing, and a sync run by ``tempox sync`` (another process) counts too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from catalog.enums import RunStatus
from catalog.store.health import (
    FreshnessHealth,
    RunCount,
    SourceHealth,
    read_freshness_health,
    read_run_counts,
    read_source_health,
)
from catalog.store.store import Store

__all__ = ["FINISHED", "CatalogHealth", "FreshnessHealth", "RunCount", "SourceHealth", "health"]

FINISHED = tuple(sorted(s.value for s in RunStatus if s.is_done()))


@dataclass(frozen=True, slots=True)
class CatalogHealth:
    at: datetime
    sources: list[SourceHealth]
    finished_runs: list[RunCount]
    freshness: FreshnessHealth
    lag_bounds: tuple[float, ...]  # seconds; ``freshness.produced_within`` counts per bound


def health(store: Store, now: datetime, lag_bounds: Sequence[float]) -> CatalogHealth:
    """Sources, finished runs and freshness, read in one transaction (one consistent view)."""
    bounds = tuple(lag_bounds)
    with store.engine.connect() as conn, conn.begin():
        sources = read_source_health(conn)
        runs = read_run_counts(conn, FINISHED)
        freshness = read_freshness_health(conn, now, [now - timedelta(seconds=b) for b in bounds])
    return CatalogHealth(now, sources, runs, freshness, bounds)
