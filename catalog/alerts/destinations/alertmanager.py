"""Prometheus Alertmanager, API v2: ``POST /api/v2/alerts``, so existing routing applies.

Labels identify the alert (Alertmanager groups, routes and deduplicates on them) and stay the
same from trigger to resolve; annotations carry the message. A firing alert is sent with an
``endsAt`` a day ahead (a rule's ``repeat`` renews it); its resolution with ``endsAt`` now.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from catalog.alerts.destinations.base import Destination, Notification, dumps
from catalog.alerts.messages import summary_lines

FIRING_FOR = timedelta(days=1)
_URL = re.compile(r"^https?://")


def alert(p: Mapping[str, Any]) -> dict[str, Any]:
    labels = {
        "alertname": p["rule"],
        "severity": p["severity"],
        "tempox_kind": p["kind"],
        "tempox_key": p["key"],
        "tempox_alert": str(p["id"]),
    }
    for label, value in (
        ("source", (p.get("source") or {}).get("name")),
        ("tool", (p.get("source") or {}).get("tool")),
        ("pipeline", (p.get("pipeline") or {}).get("name")),
        ("asset", (p.get("asset") or {}).get("uri")),
    ):
        if value:
            labels[label] = str(value)
    impact = p.get("impact") or {}
    annotations = {
        "summary": str(p["title"]),
        "description": "\n".join(summary_lines(dict(p))),
    }
    if p.get("owners"):
        annotations["owners"] = ", ".join(p["owners"])
    if impact.get("owners"):
        annotations["downstream_owners"] = ", ".join(impact["owners"])
    if impact.get("assets"):
        annotations["downstream"] = ", ".join(a["uri"] for a in impact["assets"])
    run = p.get("run") or {}
    if run.get("error"):
        annotations["error"] = str(run["error"])
    if run.get("ui_url"):
        annotations["run_url"] = str(run["ui_url"])
    at = datetime.fromisoformat(p["at"])
    ends = at if p["action"] == "resolve" else at + FIRING_FOR
    out: dict[str, Any] = {
        "labels": labels,
        "annotations": annotations,
        "startsAt": p["started_at"],
        "endsAt": ends.isoformat(),
    }
    generator = run.get("ui_url") or (p.get("pipeline") or {}).get("ui_url") or p.get("link") or ""
    if _URL.match(generator):
        out["generatorURL"] = generator
    return out


class Alertmanager(Destination):
    def request(self, notification: Notification) -> tuple[str, bytes, dict[str, str]]:
        return self.url() + "/api/v2/alerts", dumps([alert(notification.payload)]), {}
