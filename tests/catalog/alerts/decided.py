"""An estate with a decided alert: an Airflow run failed, its impact in Dagster and Prefect."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from catalog.alerts.engine import AlertEngine
from catalog.alerts.outbox import Dispatcher
from catalog.alerts.settings import AlertSettings
from catalog.enums import RunStatus
from catalog.service import Catalog
from catalog.store.store import Store
from tests.catalog.alerts.estate import T0, Clock, airflow_runs, cross_tool


def settings(destinations: list[dict[str, Any]], **extra: Any) -> AlertSettings:
    return AlertSettings.model_validate(
        {
            "destinations": destinations,
            "rules": [
                {
                    "name": "any-failure",
                    "when": "run_failed",
                    "notify": [d["name"] for d in destinations],
                    "severity": "critical",
                }
            ],
            "public_url": "http://tempox.local:8000",
            **extra,
        }
    )


class Decided:
    """Fail a run (:meth:`fail`), then succeed one (:meth:`recover`), evaluating each time."""

    def __init__(self, store: Store, alerts: AlertSettings, clock: Clock | None = None) -> None:
        self.store = store
        self.clock = clock or Clock(T0)
        self.ids = cross_tool(store)
        self.engine = AlertEngine(Catalog(store, clock=self.clock), alerts, clock=self.clock)
        self.engine.evaluate()
        self.dispatcher = Dispatcher(store, alerts, "test-dispatcher", clock=self.clock)

    def fail(self) -> None:
        end = self.clock.now + timedelta(minutes=1)
        self.store.write_batch(
            self.ids["airflow-prod"], airflow_runs([("r1", RunStatus.FAILED, end)])
        )
        self.clock.advance(minutes=2)
        assert self.engine.evaluate().fired == 1

    def recover(self) -> None:
        end = self.clock.now + timedelta(minutes=1)
        self.store.write_batch(
            self.ids["airflow-prod"], airflow_runs([("r2", RunStatus.SUCCESS, end)], cursor=2)
        )
        self.clock.advance(minutes=2)
        assert self.engine.evaluate().resolved == 1
