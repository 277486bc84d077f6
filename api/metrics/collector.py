"""The catalog's state as metric families, read from the store at each scrape.

Correct across replicas and after a restart, because nothing is counted in the process: every
number is what the shared database says now. Labels: a source's name and kind (bounded by the
configuration), a run's normalised status (a closed enum), a sync outcome (a closed enum).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from catalog.enums import SyncOutcome
from catalog.health import CatalogHealth, SourceHealth, health
from catalog.store.store import Store

__all__ = ["LAG_BUCKETS", "CatalogCollector", "Combined"]

log = logging.getLogger("tempox.api.metrics")

MINUTE, HOUR, DAY = 60.0, 3600.0, 86400.0
LAG_BUCKETS = (
    5 * MINUTE,
    15 * MINUTE,
    HOUR,
    6 * HOUR,
    DAY,
    2 * DAY,
    7 * DAY,
    30 * DAY,
)
SOURCE = ["source", "kind"]


class CatalogCollector(Collector):
    """Sources' sync state, finished runs and asset freshness, from ``store`` at ``clock()``."""

    def __init__(self, store: Store, clock: Callable[[], datetime]) -> None:
        self.store = store
        self.clock = clock

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "tempox_catalog_up", "1 when the catalog's database answered this scrape, else 0."
        )
        try:
            state = health(self.store, self.clock(), LAG_BUCKETS)
        except Exception:
            log.warning("metrics: the catalog's database did not answer", exc_info=True)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from _sources(state.sources)
        yield _runs(state)
        yield from _freshness(state)


def _stamp(at: datetime | None) -> float | None:
    return at.timestamp() if at is not None else None


def _sources(sources: list[SourceHealth]) -> Iterator[Metric]:
    outcome = GaugeMetricFamily(
        "tempox_source_sync_outcome",
        "1 for the outcome of the source's current or last sync (never, running, ok, failed).",
        labels=[*SOURCE, "outcome"],
    )
    success = GaugeMetricFamily(
        "tempox_source_last_success_timestamp_seconds",
        "When the source's last successful sync ended (Unix time).",
        labels=SOURCE,
    )
    failure = GaugeMetricFamily(
        "tempox_source_last_failure_timestamp_seconds",
        "When the source's last failed sync ended (Unix time).",
        labels=SOURCE,
    )
    started = GaugeMetricFamily(
        "tempox_source_last_sync_start_timestamp_seconds",
        "When the source's current or last sync started (Unix time).",
        labels=SOURCE,
    )
    duration = GaugeMetricFamily(
        "tempox_source_last_sync_duration_seconds",
        "How long the source's last finished sync took.",
        labels=SOURCE,
    )
    records = GaugeMetricFamily(
        "tempox_source_last_sync_records",
        "Records written by the source's current or last sync.",
        labels=SOURCE,
    )
    batches = GaugeMetricFamily(
        "tempox_source_last_sync_batches",
        "Batches committed by the source's current or last sync.",
        labels=SOURCE,
    )
    for s in sources:
        labels = [s.name, s.kind]
        for value in SyncOutcome:
            outcome.add_metric([*labels, value.value], 1.0 if s.outcome == value.value else 0.0)
        for family, at in ((success, s.succeeded_at), (failure, s.failed_at)):
            stamp = _stamp(at)
            if stamp is not None:
                family.add_metric(labels, stamp)
        if s.started_at is not None:
            started.add_metric(labels, s.started_at.timestamp())
            took = _duration(s)
            if took is not None:
                duration.add_metric(labels, took)
        records.add_metric(labels, s.records)
        batches.add_metric(labels, s.batches)
    return iter([outcome, success, failure, started, duration, records, batches])


def _duration(s: SourceHealth) -> float | None:
    """The last finished sync's length: from its start to the end it recorded."""
    if s.started_at is None or s.outcome not in (SyncOutcome.OK, SyncOutcome.FAILED):
        return None
    ended = s.succeeded_at if s.outcome == SyncOutcome.OK else s.failed_at
    if ended is None or ended < s.started_at:
        return None
    return (ended - s.started_at).total_seconds()


def _runs(state: CatalogHealth) -> Metric:
    runs = CounterMetricFamily(
        "tempox_runs_finished",
        "Finished runs in the catalog, by source, tool (the source's kind) and status.",
        labels=[*SOURCE, "status"],
    )
    for r in state.finished_runs:
        runs.add_metric([r.source, r.kind, r.status], r.count)
    return runs


def _freshness(state: CatalogHealth) -> Iterator[Metric]:
    f = state.freshness
    with_policy = GaugeMetricFamily(
        "tempox_assets_with_freshness_policy", "Assets that have a freshness policy."
    )
    with_policy.add_metric([], f.with_policy)
    stale = GaugeMetricFamily(
        "tempox_assets_stale",
        "Assets past their freshness policy now (never produced ones included).",
    )
    stale.add_metric([], f.stale)
    lag = HistogramMetricFamily(
        "tempox_asset_freshness_lag_seconds",
        "Time since the last production of each asset that has a freshness policy (never "
        "produced: only in +Inf).",
    )
    buckets = [(_le(b), float(n)) for b, n in zip(state.lag_bounds, f.produced_within, strict=True)]
    lag.add_metric([], [*buckets, ("+Inf", float(f.with_policy))], sum_value=None)
    oldest = GaugeMetricFamily(
        "tempox_asset_freshness_lag_max_seconds",
        "The largest time since the last production among assets that have a policy and were "
        "produced at least once.",
    )
    if f.oldest_produced_at is not None:
        oldest.add_metric([], max(0.0, (state.at - f.oldest_produced_at).total_seconds()))
    return iter([with_policy, stale, lag, oldest])


def _le(bound: float) -> str:
    return f"{bound:g}" if bound != int(bound) else f"{int(bound)}.0"


class Combined(Collector):
    """Several collectors (the default registry, a catalog's collector) as one, to expose."""

    def __init__(self, parts: Iterable[Collector]) -> None:
        self.parts = list(parts)

    def collect(self) -> Iterator[Metric]:
        for part in self.parts:
            yield from part.collect()
