"""Across replicas one process evaluates at a time; a sync ending asks for an evaluation."""

from __future__ import annotations

from catalog.alerts.service import AlertService
from catalog.store.store import Store
from catalog.sync_types import SyncResult, SyncStatus
from tests.catalog.alerts.estate import T0, Clock, alert_settings

RULE = {"name": "any-failure", "when": "run_failed", "notify": ["ops"]}


def test_one_replica_evaluates_at_a_time(store: Store) -> None:
    clock = Clock(T0)
    alerts = alert_settings(RULE)
    first = AlertService(store, alerts, clock=clock, owner="replica-1")
    second = AlertService(store, alerts, clock=clock, owner="replica-2")
    assert first.evaluate() is not None
    assert second.evaluate() is None  # replica-1 holds the turn
    assert first.evaluate() is not None  # and keeps it
    first.stop()  # a replica that stops hands it over at once
    assert second.evaluate() is not None
    clock.advance(minutes=4)  # a replica that died loses it when its lease runs out
    assert first.evaluate() is not None
    second.stop()
    first.stop()


def test_a_sync_that_ends_asks_for_an_evaluation(store: Store) -> None:
    service = AlertService(store, alert_settings(RULE), clock=Clock(T0))
    observer = service.observer()
    assert not service.evaluation_requested
    observer.done("x", SyncResult("x", "synthetic", SyncStatus.OK))
    assert service.evaluation_requested
    service.stop()
