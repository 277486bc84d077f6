"""PagerDuty Events API v2: trigger and resolve one incident under a stable ``dedup_key``."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from catalog.alerts.destinations.base import Destination, Notification, dumps
from catalog.alerts.messages import summary_lines

MAX_DEDUP_KEY = 255
MAX_SUMMARY = 1024


def dedup(key: str) -> str:
    if len(key) <= MAX_DEDUP_KEY:
        return key
    return key[:200] + "/" + hashlib.sha256(key.encode()).hexdigest()[:32]


def event(routing_key: str, p: Mapping[str, Any]) -> dict[str, Any]:
    """The Events API v2 body for a stored alert payload."""
    if p["action"] == "resolve":
        return {
            "routing_key": routing_key,
            "event_action": "resolve",
            "dedup_key": dedup(p["dedup_key"]),
        }
    source = (p.get("source") or {}).get("name") or (p.get("asset") or {}).get("uri") or "tempox"
    component = (p.get("pipeline") or {}).get("name") or (p.get("asset") or {}).get("uri")
    body: dict[str, Any] = {
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": dedup(p["dedup_key"]),
        "payload": {
            "summary": str(p["title"])[:MAX_SUMMARY],
            "source": source,
            "severity": p["severity"],  # the rule's: critical, error, warning or info
            "timestamp": p["at"],
            "class": p["kind"],
            "custom_details": {
                "rule": p["rule"],
                "details": summary_lines(dict(p)),
                "owners": p.get("owners") or [],
                "run": p.get("run"),
                "impact": p.get("impact"),
            },
        },
        "client": "Tempox",
    }
    if component:
        body["payload"]["component"] = component
    if tool := (p.get("source") or {}).get("tool"):
        body["payload"]["group"] = tool
    links = [
        {"href": href, "text": text}
        for href, text in (
            ((p.get("run") or {}).get("ui_url"), "The run"),
            ((p.get("pipeline") or {}).get("ui_url"), "The pipeline"),
        )
        if href
    ]
    if links:
        body["links"] = links
    if p.get("link"):
        body["client_url"] = p["link"]
    return body


class PagerDuty(Destination):
    def request(self, notification: Notification) -> tuple[str, bytes, dict[str, str]]:
        env = self.settings.routing_key_env
        assert env is not None  # the settings validator requires it
        key = self.secret("routing_key_env", env)
        return self.url(), dumps(event(key, notification.payload)), {}
