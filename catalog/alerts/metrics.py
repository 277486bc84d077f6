"""Delivery counters, in prometheus-client's default registry (served at ``/metrics``).

The ``destination`` label takes the configured destination names only: bounded.
"""

from __future__ import annotations

from prometheus_client import Counter

SENT = Counter(
    "tempox_alerts_sent_total", "Alert notifications delivered, by destination", ["destination"]
)
FAILED = Counter(
    "tempox_alerts_failed_total",
    "Alert notification attempts that failed (each is retried until it is given up)",
    ["destination"],
)
