"""The server alerts by itself: its background sync ends, the rules are evaluated, the
notification is delivered, and GraphQL shows the incident and its delivery."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from api.app import create_app
from catalog.config import parse_settings
from catalog.store.store import Store, utcnow
from tests.api.conftest import GraphQLClient
from tests.catalog.alerts.receiver import receiver
from tests.catalog.alerts.test_history import pipelines_whose_latest_run_failed
from tests.peers.processes import wait_until

ALERTS = "{ alerts(status: FIRING) { nodes { rule title deliveries { state } } } }"


def test_background_sync_then_alert_then_delivery(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tempox.db'}"
    with receiver() as inbox:
        settings = parse_settings(
            {
                "database": {"url": url},
                "sources": {
                    "estate": {
                        "kind": "synthetic",
                        "pipelines": 10,
                        "runs_per_pipeline": 5,
                        "failure_rate": 0.5,
                        "start": (utcnow() - timedelta(days=6)).isoformat(),
                    }
                },
                "alerts": {
                    "destinations": [
                        {"name": "ops", "kind": "webhook", "url": f"{inbox.url}/hook"}
                    ],
                    "rules": [
                        {
                            "name": "failures",
                            "when": "run_failed",
                            "notify": ["ops"],
                            "lookback": "30d",
                        }
                    ],
                },
            }
        )
        with TestClient(create_app(settings)) as http:
            client = GraphQLClient(http)

            def delivered() -> bool:
                nodes: list[dict[str, Any]] = client.data(ALERTS)["alerts"]["nodes"]
                return bool(nodes) and all(n["deliveries"] == [{"state": "sent"}] for n in nodes)

            wait_until("the alerts are delivered", delivered, 60)
            nodes = client.data(ALERTS)["alerts"]["nodes"]
        store = Store(url)
        expected = len(pipelines_whose_latest_run_failed(store))
        store.close()
        assert len(nodes) == expected > 0
        assert len(inbox.requests) == expected
        assert {r.json()["rule"] for r in inbox.requests} == {"failures"}
