"""Kill -9 between deciding and sending: after a restart the alert is delivered, once."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from catalog.alerts.engine import AlertEngine
from catalog.alerts.service import AlertService
from catalog.alerts.settings import AlertSettings
from catalog.enums import RunStatus
from catalog.service import Catalog
from catalog.store import tables as t
from catalog.store.store import Store, utcnow
from tests.catalog.alerts.estate import Clock, airflow_runs, cross_tool
from tests.catalog.alerts.receiver import receiver

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[3]

# The process that syncs: it decides (the alert and its notification commit together), then
# dies by SIGKILL, before sending or with the notification claimed but not yet sent.
CHILD = """
import json, os, signal, sys
from catalog.alerts.destinations.base import Destination
from catalog.alerts.service import AlertService
from catalog.alerts.settings import AlertSettings
from catalog.alerts.settings import AlertSettings
from catalog.store.store import Store

url, config, when = sys.argv[1:4]
service = AlertService(Store(url), AlertSettings.model_validate(json.loads(config)))
evaluation = service.evaluate()
assert evaluation is not None and evaluation.fired == 1, evaluation
if when == "while-sending":
    Destination.send = lambda self, notification: os.kill(os.getpid(), signal.SIGKILL)
    service.dispatcher.deliver_all()
os.kill(os.getpid(), signal.SIGKILL)
"""


def outbox(store: Store) -> list[t.AlertOutbox]:
    with store.session() as s:
        return list(s.scalars(select(t.AlertOutbox)))


@pytest.mark.parametrize("when", ["after-deciding", "while-sending"])
def test_killed_between_deciding_and_sending_delivers_once_after_restart(
    when: str, database: str
) -> None:
    store = Store(database)
    with receiver() as inbox:
        config = {
            "destinations": [{"name": "ops", "kind": "webhook", "url": f"{inbox.url}/hook"}],
            "rules": [{"name": "any-failure", "when": "run_failed", "notify": ["ops"]}],
        }
        alerts = AlertSettings.model_validate(config)
        ids = cross_tool(store)
        AlertEngine(Catalog(store), alerts).evaluate()  # the rule exists from now on
        ended = utcnow()
        store.write_batch(ids["airflow-prod"], airflow_runs([("r1", RunStatus.FAILED, ended)]))

        child = subprocess.run(
            [sys.executable, "-c", CHILD, database, json.dumps(config), when],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert child.returncode == -signal.SIGKILL, child.stderr
        assert inbox.requests == []
        (pending,) = outbox(store)
        assert pending.state == "pending"
        assert (pending.claimed_by is not None) == (when == "while-sending")

        # The restart takes the dead process's turn as the evaluator over at once; decided
        # already, the alert is not decided again.
        restarted = AlertService(store, alerts)
        evaluation = restarted.evaluate()
        assert evaluation is not None
        assert evaluation.fired == 0
        # The dead process's claim on the notification runs out, then the row is sent.
        later = Clock(utcnow() + timedelta(minutes=2))
        restarted.dispatcher.clock = later
        assert restarted.dispatcher.deliver_all() == 1
        later.advance(minutes=10)
        assert restarted.dispatcher.deliver_all() == 0
        restarted.dispatcher.stop()
        (request,) = inbox.requests
    assert request.json()["run"]["external_id"] == "r1"
    assert [o.state for o in outbox(store)] == ["sent"]
    store.close()
