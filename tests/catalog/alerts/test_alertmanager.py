"""A real Alertmanager receives the alert for a failed run, then its resolution."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from catalog.store.store import Store, utcnow
from tests.catalog.alerts.decided import Decided, settings
from tests.catalog.alerts.estate import Clock
from tests.peers.alertmanager import alertmanager

pytestmark = pytest.mark.slow


def test_alertmanager_receives_a_failed_run_and_its_resolution(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'tempox.db'}")
    with alertmanager(tmp_path) as am:
        # Alertmanager judges endsAt against its own clock: decide in the (recent) past.
        clock = Clock(utcnow() - timedelta(minutes=10))
        decided = Decided(
            store, settings([{"name": "am", "kind": "alertmanager", "url": am.url}]), clock
        )
        decided.fail()
        assert decided.dispatcher.deliver_all() == 1
        (alert,) = am.alerts()
        assert alert["labels"]["alertname"] == "any-failure"
        assert alert["labels"]["pipeline"] == "etl"
        assert alert["labels"]["source"] == "airflow-prod"
        assert alert["labels"]["severity"] == "critical"
        assert alert["status"]["state"] in ("active", "unprocessed")
        assert alert["generatorURL"] == "http://airflow.local/dags/etl/runs/r1"
        assert "load: relation orders does not exist" in alert["annotations"]["error"]
        assert "ceo-office" in alert["annotations"]["downstream_owners"]
        assert "s3://lake/reports/daily" in alert["annotations"]["downstream"]
        decided.recover()
        assert decided.dispatcher.deliver_all() == 1
        # Resolved: Alertmanager no longer lists it among the alerts that are firing.
        assert am.alerts() == []
        decided.dispatcher.stop()
    store.close()
