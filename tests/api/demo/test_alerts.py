"""On the demo estate recorded from real servers: an Airflow run failed, and its alert names
the Dagster and Prefect assets downstream with their owners, as a webhook receives it."""

from __future__ import annotations

from pathlib import Path

from api.demo.estate import load_demo
from catalog.alerts.engine import AlertEngine
from catalog.alerts.outbox import Dispatcher
from catalog.alerts.settings import AlertSettings
from catalog.service import Catalog
from catalog.store.store import Store
from tests.catalog.alerts.receiver import receiver


def rules(url: str, **extra: object) -> AlertSettings:
    return AlertSettings.model_validate(
        {
            "destinations": [{"name": "ops", "kind": "webhook", "url": f"{url}/hook"}],
            "rules": [
                {
                    "name": "airflow-failures",
                    "when": "run_failed",
                    "tool": "airflow",
                    "pipeline": "tempox_producer",
                    "notify": ["ops"],
                    **extra,
                }
            ],
        }
    )


def test_an_airflow_failure_names_the_dagster_and_prefect_assets_downstream(
    tmp_path: Path,
) -> None:
    store = Store(f"sqlite:///{tmp_path / 'demo.db'}")
    loaded = load_demo(store)
    assert not loaded.misses
    with receiver() as inbox:
        # Without a look-back the recorded failures are history: nobody is paged for them.
        quiet = rules(inbox.url)
        assert AlertEngine(Catalog(store), quiet).evaluate().opened == 0
        alerts = rules(inbox.url, name="looking-back", lookback="7d")
        engine = AlertEngine(Catalog(store), alerts)
        assert engine.evaluate().fired == 1
        dispatcher = Dispatcher(store, alerts, "test")
        assert dispatcher.deliver_all() == 1
        dispatcher.stop()
        (request,) = inbox.requests
    store.close()
    body = request.json()
    assert body["rule"] == "looking-back"
    assert body["source"] == {"name": "airflow", "tool": "airflow"}
    assert body["pipeline"]["name"] == "tempox_producer"
    assert body["run"]["status"] == "failed"
    assert body["run"]["error"]
    assert body["run"]["ui_url"].startswith("http://localhost:8080/")
    downstream = {a["uri"]: a for a in body["impact"]["assets"]}
    dagster = downstream["postgres://warehouse:5432/orders"]
    assert "dagster" in dagster["tools"]
    assert dagster["owners"] == ["alice@example.com", "team:analytics"]
    revenue = downstream["postgres://warehouse:5432/daily_revenue"]
    assert {"dagster", "prefect"} <= set(revenue["tools"])
    assert revenue["owners"] == ["team:analytics"]
    report = downstream["s3://reports/revenue_report"]
    assert "prefect" in report["tools"]
    assert {"airflow", "dagster", "prefect"} <= set(body["impact"]["tools"])
    assert {"alice@example.com", "team:analytics"} <= set(body["impact"]["owners"])
