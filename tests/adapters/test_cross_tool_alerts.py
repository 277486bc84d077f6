"""End to end with real servers: an Airflow run fails, and the alert a webhook receives names
the Dagster and Prefect assets downstream of it, with their owners."""

from __future__ import annotations

import pytest

from api.demo.estate import AIRFLOW_PASSWORD_ENV
from catalog.alerts.service import AlertService
from catalog.alerts.settings import AlertSettings
from catalog.store.store import Store
from tests.adapters.test_cross_tool import (
    DAILY_REVENUE,
    ORDERS,
    RAW_ORDERS,
    REPORT,
    settings,
    sync_all,
)
from tests.catalog.alerts.receiver import receiver
from tests.peers.airflow import PASSWORD, AirflowStack
from tests.peers.dagster import DagsterServer
from tests.peers.prefect import PrefectServer

pytestmark = [pytest.mark.peers, pytest.mark.xdist_group("peers")]


def test_an_airflow_failure_alerts_the_owners_of_dagster_and_prefect_assets(
    store: Store,
    airflow: AirflowStack,
    prefect_server: PrefectServer,
    dagster_server: DagsterServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(AIRFLOW_PASSWORD_ENV, PASSWORD)
    monkeypatch.setenv("HOOK_SECRET", "e2e-webhook-secret")
    with receiver() as inbox:
        alerts = AlertSettings.model_validate(
            {
                "destinations": [
                    {"name": "ops", "kind": "webhook", "url": f"{inbox.url}/hook"},
                ],
                "rules": [
                    {
                        "name": "producer-failed",
                        "when": "run_failed",
                        "tool": "airflow",
                        "pipeline": "tempox_producer",
                        "notify": ["ops"],
                    }
                ],
            }
        )
        service = AlertService(store, alerts)
        service.evaluate()  # the rule exists before the failure happens
        failed = airflow.trigger("tempox_producer", {"fail": True})
        airflow.wait_for_runs([("tempox_producer", failed)])
        prefect_server.run_flows("revenue-report")
        sync_all(store, settings(airflow, prefect_server, dagster_server))
        evaluation = service.evaluate()
        assert evaluation is not None
        assert evaluation.fired == 1
        assert service.dispatcher.deliver_all() == 1
        service.dispatcher.stop()
        (request,) = inbox.requests
    body = request.json()
    assert body["rule"] == "producer-failed"
    assert body["status"] == "firing"
    assert body["pipeline"]["name"] == "tempox_producer"
    assert body["run"]["external_id"] == f"tempox_producer/{failed}"
    assert body["run"]["status"] == "failed"
    assert body["run"]["ui_url"]
    downstream = {a["uri"]: a for a in body["impact"]["assets"]}
    assert {RAW_ORDERS, ORDERS, DAILY_REVENUE, REPORT} <= set(downstream)
    assert "dagster" in downstream[ORDERS]["tools"]
    assert downstream[ORDERS]["owners"] == ["alice@example.com", "team:analytics"]  # Dagster's
    assert "prefect" in downstream[REPORT]["tools"]
    assert {"airflow", "dagster", "prefect"} <= set(body["impact"]["tools"])
