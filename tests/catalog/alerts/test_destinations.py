"""Each destination's payload, as a local receiver gets it, checked against the service's
documented format field by field."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from catalog.store.store import Store
from tests.catalog.alerts.decided import Decided, settings
from tests.catalog.alerts.estate import REPORT, REVENUE
from tests.catalog.alerts.receiver import Received, receiver


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    s = Store(f"sqlite:///{tmp_path / 'tempox.db'}")
    yield s
    s.close()


def deliver(store: Store, destination: dict[str, Any]) -> tuple[Received, Received]:
    """A failure then its resolution delivered to ``destination``; the two requests."""
    with receiver() as inbox:
        destination = {
            k: (v.replace("RECEIVER", inbox.url) if isinstance(v, str) else v)
            for k, v in destination.items()
        }
        decided = Decided(store, settings([destination]))
        decided.fail()
        assert decided.dispatcher.deliver_all() == 1
        decided.recover()
        assert decided.dispatcher.deliver_all() == 1
        decided.dispatcher.stop()
        trigger, resolve = inbox.requests
    return trigger, resolve


def test_pagerduty_events_v2(sqlite_store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    key = "R0ut1ngK3yR0ut1ngK3yR0ut1ngK3y12"
    monkeypatch.setenv("PD_KEY", key)
    trigger, resolve = deliver(
        sqlite_store,
        {
            "name": "pd",
            "kind": "pagerduty",
            "url": "RECEIVER/v2/enqueue",
            "routing_key_env": "PD_KEY",
        },
    )
    assert trigger.path == resolve.path == "/v2/enqueue"
    assert trigger.headers["Content-Type"] == "application/json"
    t = trigger.json()
    # Required: routing_key, event_action, payload.summary, payload.source, payload.severity.
    assert t["routing_key"] == key
    assert t["event_action"] == "trigger"
    assert 0 < len(t["dedup_key"]) <= 255
    p = t["payload"]
    assert 0 < len(p["summary"]) <= 1024
    assert "etl" in p["summary"]
    assert "r1" in p["summary"]
    assert p["source"] == "airflow-prod"
    assert p["severity"] == "critical"
    assert p["severity"] in ("critical", "error", "warning", "info")
    datetime.fromisoformat(p["timestamp"])
    assert (p["component"], p["group"], p["class"]) == ("etl", "airflow", "run_failed")
    details = p["custom_details"]
    assert details["run"]["error"] == "load: relation orders does not exist"
    assert {a["uri"] for a in details["impact"]["assets"]} >= {REVENUE, REPORT}
    assert all(set(link) == {"href", "text"} for link in t["links"])
    assert t["links"][0]["href"] == "http://airflow.local/dags/etl/runs/r1"
    assert set(t) <= {
        "routing_key",
        "event_action",
        "dedup_key",
        "payload",
        "links",
        "images",
        "client",
        "client_url",
    }
    r = resolve.json()
    assert r == {"routing_key": key, "event_action": "resolve", "dedup_key": t["dedup_key"]}


SLACK_BLOCKS = {"section", "header", "context", "actions", "divider", "image", "rich_text"}


def _check_text(
    obj: dict[str, Any], limit: int, kinds: tuple[str, ...] = ("plain_text", "mrkdwn")
) -> None:
    assert obj["type"] in kinds
    assert isinstance(obj["text"], str)
    assert 0 < len(obj["text"]) <= limit


def test_slack_block_kit(sqlite_store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    with receiver() as inbox:
        monkeypatch.setenv("SLACK_URL", f"{inbox.url}/services/T000/B000/XXXX")
        decided = Decided(
            sqlite_store, settings([{"name": "chat", "kind": "slack", "url_env": "SLACK_URL"}])
        )
        decided.fail()
        decided.dispatcher.deliver_all()
        decided.recover()
        decided.dispatcher.deliver_all()
        trigger, resolve = inbox.requests
    assert trigger.path == "/services/T000/B000/XXXX"
    for message in (trigger.json(), resolve.json()):
        assert isinstance(message["text"], str)
        assert message["text"]
        blocks = message["blocks"]
        assert 0 < len(blocks) <= 50
        for block in blocks:
            assert block["type"] in SLACK_BLOCKS
            if block["type"] == "header":
                _check_text(block["text"], 150, ("plain_text",))
            if block["type"] == "section":
                assert "text" in block or "fields" in block
                if "text" in block:
                    _check_text(block["text"], 3000)
                for f in block.get("fields", []):
                    _check_text(f, 2000)
                assert len(block.get("fields", [])) <= 10
            if block["type"] == "context":
                assert 0 < len(block["elements"]) <= 10
                for e in block["elements"]:
                    _check_text(e, 3000)
            if block["type"] == "actions":
                assert 0 < len(block["elements"]) <= 25
                for e in block["elements"]:
                    assert e["type"] == "button"
                    _check_text(e["text"], 75, ("plain_text",))
                    assert e["url"].startswith("http")
                    assert len(e["url"]) <= 3000
    text = str(trigger.json())
    assert "etl" in text
    assert "finance-data" in text
    assert "ceo-office" in text
    assert "relation orders does not exist" in text
    assert resolve.json()["text"].startswith("Resolved: ")


def test_webhook_json_signed_with_hmac(
    sqlite_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "whsec-0123456789"
    monkeypatch.setenv("HOOK_SECRET", secret)
    trigger, resolve = deliver(
        sqlite_store,
        {"name": "ops", "kind": "webhook", "url": "RECEIVER/hook", "secret_env": "HOOK_SECRET"},
    )
    for request in (trigger, resolve):
        signature = request.headers["X-Tempox-Signature-256"]
        expected = "sha256=" + hmac.new(secret.encode(), request.body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(signature, expected)
        assert re.fullmatch(r"\d+", request.headers["X-Tempox-Delivery"])
    body = trigger.json()
    assert trigger.headers["X-Tempox-Event"] == "trigger"
    assert body["action"] == "trigger"
    assert body["rule"] == "any-failure"
    assert body["pipeline"]["name"] == "etl"
    assert body["run"]["external_id"] == "r1"
    assert body["status"] == "firing"
    assert body["version"] == 1
    downstream = {a["uri"]: a for a in body["impact"]["assets"]}
    assert downstream[REPORT]["tools"] == ["prefect"]
    assert downstream[REPORT]["owners"] == ["ceo-office"]
    end = resolve.json()
    assert end["status"] == "resolved"
    assert end["dedup_key"] == body["dedup_key"]
    assert secret not in trigger.body.decode()


def test_webhook_unsigned_as_the_issue_configures_it(sqlite_store: Store) -> None:
    trigger, _ = deliver(sqlite_store, {"name": "ops", "kind": "webhook", "url": "RECEIVER/hook"})
    assert "X-Tempox-Signature-256" not in trigger.headers
    assert trigger.json()["rule"] == "any-failure"


def test_alertmanager_v2_body(sqlite_store: Store) -> None:
    trigger, resolve = deliver(
        sqlite_store, {"name": "am", "kind": "alertmanager", "url": "RECEIVER"}
    )
    assert trigger.path == resolve.path == "/api/v2/alerts"
    (fired,) = trigger.json()
    (ended,) = resolve.json()
    assert fired["labels"] == ended["labels"]  # one alert to Alertmanager
    assert fired["labels"]["alertname"] == "any-failure"
    assert fired["labels"]["pipeline"] == "etl"
    assert fired["labels"]["tool"] == "airflow"
    assert fired["generatorURL"] == "http://airflow.local/dags/etl/runs/r1"
    assert "finance-data" in fired["annotations"]["downstream_owners"]
    assert datetime.fromisoformat(fired["endsAt"]) > datetime.fromisoformat(fired["startsAt"])
    assert datetime.fromisoformat(ended["endsAt"]) <= datetime.fromisoformat(fired["endsAt"])
