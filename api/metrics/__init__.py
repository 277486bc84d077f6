"""Prometheus metrics: what the process counts, and the catalog's state at each scrape."""

from api.metrics.endpoint import metrics_route
from api.metrics.sync import SyncMetrics

__all__ = ["SyncMetrics", "metrics_route"]
