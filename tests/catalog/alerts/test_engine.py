"""The engine on both databases: incidents opened once, resolved, silenced, never for history."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from catalog.alerts.engine import AlertEngine
from catalog.enums import RunStatus
from catalog.service import Catalog
from catalog.store import tables as t
from catalog.store.store import Store
from tests.catalog.alerts.estate import (
    ORDERS,
    REPORT,
    REVENUE,
    T0,
    Clock,
    airflow_runs,
    alert_settings,
    checked,
    cross_tool,
    produced,
)

FAILED, OK = RunStatus.FAILED, RunStatus.SUCCESS


def alerts(store: Store) -> list[t.Alert]:
    with store.session() as s:
        return list(s.scalars(select(t.Alert).order_by(t.Alert.id)))  # type: ignore[arg-type]


def outbox(store: Store) -> list[t.AlertOutbox]:
    with store.session() as s:
        return list(s.scalars(select(t.AlertOutbox).order_by(t.AlertOutbox.id)))  # type: ignore[arg-type]


def engine(store: Store, clock: Clock, *rules: dict[str, Any], **extra: Any) -> AlertEngine:
    settings = alert_settings(*rules, **extra)
    return AlertEngine(Catalog(store, clock=clock), settings, clock=clock)


ANY_FAILURE = {"name": "any-failure", "when": "run_failed", "notify": ["ops"]}


def test_a_failed_run_opens_one_incident_that_names_the_impact_across_tools(store: Store) -> None:
    clock = Clock(T0)
    ids = cross_tool(store)
    e = engine(store, clock, ANY_FAILURE)
    assert e.evaluate().opened == 0  # the rule exists from now on
    store.write_batch(
        ids["airflow-prod"], airflow_runs([("r1", FAILED, T0 + timedelta(minutes=1))])
    )
    clock.advance(minutes=2)
    assert e.evaluate().fired == 1
    (alert,) = alerts(store)
    assert (alert.status, alert.rule, alert.kind, alert.count) == (
        "firing",
        "any-failure",
        "run_failed",
        1,
    )
    (note,) = outbox(store)
    p = note.payload
    assert (note.destination, note.action, note.state) == ("ops", "trigger", "pending")
    assert p["rule"] == "any-failure"
    assert p["pipeline"]["name"] == "etl"
    assert p["run"]["external_id"] == "r1"
    assert p["run"]["error"] == "load: relation orders does not exist"
    assert p["run"]["ui_url"] == "http://airflow.local/dags/etl/runs/r1"
    assert p["owners"] == ["ann@example.com"]
    impact = {a["uri"]: a for a in p["impact"]["assets"]}
    # Named by Dagster (which writes it) and by Prefect (which reads it).
    assert impact[REVENUE]["tools"] == ["dagster", "prefect"]
    assert impact[REVENUE]["owners"] == ["finance-data"]
    assert impact[REPORT]["tools"] == ["prefect"]
    assert impact[REPORT]["owners"] == ["ceo-office"]
    assert impact[ORDERS]["depth"] == 0  # what the failed run was meant to write
    assert {"dagster", "prefect"} <= set(p["impact"]["tools"])
    pipelines = {x["name"]: x for x in p["impact"]["pipelines"]}
    assert pipelines["revenue_job"]["owners"] == ["bi@example.com"]

    # Deduplicated: evaluating again, or another failure of the same DAG, opens nothing new.
    clock.advance(minutes=1)
    assert e.evaluate().notifications == 0
    store.write_batch(
        ids["airflow-prod"], airflow_runs([("r2", FAILED, T0 + timedelta(minutes=5))])
    )
    clock.advance(minutes=5)
    assert e.evaluate().notifications == 0
    (alert,) = alerts(store)
    assert alert.count == 2
    assert alert.details["run"]["external_id"] == "r2"
    assert len(outbox(store)) == 1

    # A later success resolves it, with a resolve notification under the same dedup key.
    store.write_batch(ids["airflow-prod"], airflow_runs([("r3", OK, T0 + timedelta(minutes=20))]))
    clock.advance(minutes=20)
    assert e.evaluate().resolved == 1
    (alert,) = alerts(store)
    assert alert.status == "resolved"
    assert alert.resolved_at == clock.now
    trigger, resolve = outbox(store)
    assert resolve.action == "resolve"
    assert resolve.payload["status"] == "resolved"
    assert resolve.payload["dedup_key"] == trigger.payload["dedup_key"]

    # The next failure is a new incident.
    store.write_batch(
        ids["airflow-prod"], airflow_runs([("r4", FAILED, T0 + timedelta(minutes=40))])
    )
    clock.advance(minutes=30)
    e.evaluate()
    first, second = alerts(store)
    assert second.status == "firing"
    assert second.id != first.id
    assert outbox(store)[-1].payload["dedup_key"] != trigger.payload["dedup_key"]


def test_history_before_the_rule_existed_pages_nobody_unless_looked_back_on(store: Store) -> None:
    clock = Clock(T0 + timedelta(days=1))
    ids = cross_tool(store)
    history = [
        (f"r{i}", FAILED if i % 3 == 0 else OK, T0 + timedelta(minutes=i)) for i in range(60)
    ]
    history.append(("last", FAILED, T0 + timedelta(hours=2)))
    store.write_batch(ids["airflow-prod"], airflow_runs(history))
    assert engine(store, clock, ANY_FAILURE).evaluate().opened == 0
    assert alerts(store) == []
    assert outbox(store) == []
    looking_back = {**ANY_FAILURE, "name": "look-back", "lookback": "2d"}
    assert engine(store, clock, looking_back).evaluate().fired == 1  # one incident, not 21


def test_n_failures_in_a_row_fire_on_the_nth(store: Store) -> None:
    clock = Clock(T0)
    ids = cross_tool(store)
    e = engine(store, clock, {**ANY_FAILURE, "times": 3})
    e.evaluate()
    for n in range(1, 4):
        store.write_batch(
            ids["airflow-prod"], airflow_runs([(f"r{n}", FAILED, T0 + timedelta(minutes=n))])
        )
        clock.advance(minutes=1)
        result = e.evaluate()
        assert result.fired == (1 if n == 3 else 0), n
    (alert,) = alerts(store)
    assert alert.status == "firing"
    assert alert.count == 3
    assert len(outbox(store)) == 1


def test_filters_pick_the_pipelines(store: Store) -> None:
    clock = Clock(T0)
    ids = cross_tool(store)
    e = engine(
        store,
        clock,
        {**ANY_FAILURE, "name": "dagster-only", "tool": "dagster"},
        {
            **ANY_FAILURE,
            "name": "ann",
            "owner": "ann@*",
            "tag": ["nightly", "x"],
            "source": "airflow-*",
        },
    )
    e.evaluate()
    store.write_batch(
        ids["airflow-prod"], airflow_runs([("r1", FAILED, T0 + timedelta(minutes=1))])
    )
    clock.advance(minutes=2)
    e.evaluate()
    assert [a.rule for a in alerts(store)] == ["ann"]


def test_a_silence_records_the_incident_without_notifying(store: Store) -> None:
    clock = Clock(T0)
    ids = cross_tool(store)
    silences = [{"rule": "any-*", "pipeline": "etl", "ends": T0 + timedelta(hours=1)}]
    e = engine(store, clock, ANY_FAILURE, silences=silences)
    e.evaluate()
    store.write_batch(
        ids["airflow-prod"], airflow_runs([("r1", FAILED, T0 + timedelta(minutes=1))])
    )
    clock.advance(minutes=2)
    e.evaluate()
    (alert,) = alerts(store)
    assert alert.silenced
    assert outbox(store) == []
    clock.advance(hours=2)  # the silence is over, the incident still open: now it is told
    e.evaluate()
    assert [o.action for o in outbox(store)] == ["trigger"]
    assert not alerts(store)[0].silenced


def test_repeat_notifies_again_while_it_keeps_firing(store: Store) -> None:
    clock = Clock(T0)
    ids = cross_tool(store)
    e = engine(store, clock, {**ANY_FAILURE, "repeat": "1h"})
    e.evaluate()
    store.write_batch(
        ids["airflow-prod"], airflow_runs([("r1", FAILED, T0 + timedelta(minutes=1))])
    )
    clock.advance(minutes=2)
    e.evaluate()
    clock.advance(minutes=30)
    e.evaluate()
    clock.advance(minutes=31)
    e.evaluate()
    notes = outbox(store)
    assert [o.action for o in notes] == ["trigger", "trigger"]
    assert notes[0].payload["dedup_key"] == notes[1].payload["dedup_key"]


def test_an_asset_turns_stale_on_the_clock_and_fresh_again(store: Store) -> None:
    clock = Clock(T0)
    ids = cross_tool(store)
    e = engine(store, clock, {"name": "stale", "when": "asset_stale", "notify": ["ops"]})
    e.evaluate()
    store.write_batch(ids["dagster-prod"], produced(REVENUE, T0 + timedelta(minutes=1)))
    clock.advance(minutes=30)
    assert e.evaluate().opened == 0  # produced 29 minutes ago, one hour allowed
    clock.advance(minutes=40)  # no sync: the clock alone makes it stale
    assert e.evaluate().fired == 1
    (note,) = outbox(store)
    assert note.payload["asset"]["uri"] == REVENUE
    assert note.payload["owners"] == ["finance-data"]
    assert [a["uri"] for a in note.payload["impact"]["assets"]] == [REPORT]
    store.write_batch(ids["dagster-prod"], produced(REVENUE, clock.now, cursor=3))
    clock.advance(minutes=1)
    assert e.evaluate().resolved == 1
    assert [o.action for o in outbox(store)] == ["trigger", "resolve"]


def test_a_failed_check_fires_and_a_passing_one_resolves(store: Store) -> None:
    clock = Clock(T0)
    ids = cross_tool(store)
    e = engine(store, clock, {"name": "dq", "when": "check_failed", "notify": ["ops"]})
    e.evaluate()
    store.write_batch(ids["dagster-prod"], checked(REVENUE, False, T0 + timedelta(minutes=1)))
    clock.advance(minutes=2)
    assert e.evaluate().fired == 1
    assert outbox(store)[0].payload["check"]["name"] == "rows_positive"
    store.write_batch(ids["dagster-prod"], checked(REVENUE, True, T0 + timedelta(minutes=3), 4))
    clock.advance(minutes=2)
    assert e.evaluate().resolved == 1


def test_a_source_whose_syncs_keep_failing(store: Store) -> None:
    Clock(T0)
    ids = cross_tool(store)
    rules = (
        {"name": "twice", "when": "sync_failing", "times": 2, "notify": ["ops"]},
        {"name": "long", "when": "sync_failing", "for": "1h", "notify": ["ops"]},
    )
    e = AlertEngine(Catalog(store), alert_settings(*rules))  # sync times are the real clock's
    e.evaluate()
    source = ids["prefect-prod"]
    for _ in range(2):
        assert store.try_lease(source, "me", timedelta(minutes=1))
        store.finish_sync(source, "me", "ConnectError: connection refused")
        e.evaluate()
    fired = {a.rule: a.status for a in alerts(store)}
    assert fired == {"twice": "firing", "long": "pending"}
    assert store.try_lease(source, "me", timedelta(minutes=1))
    store.finish_sync(source, "me", None)
    e.evaluate()
    assert {a.status for a in alerts(store)} == {"resolved"}
    assert [o.payload["rule"] for o in outbox(store)] == ["twice", "twice"]
    assert outbox(store)[0].payload["sync"]["error"] == "ConnectError: connection refused"


def test_a_task_that_got_slower(store: Store) -> None:
    from tests.catalog.trend_estate import NOW, slowing_batch

    source = store.ensure_source("airflow-prod", "airflow")
    clock = Clock(NOW - timedelta(days=20))
    e = engine(
        store,
        clock,
        {"name": "slower", "when": "task_slower", "recent": 3, "baseline": 6, "notify": ["ops"]},
    )
    e.evaluate()
    store.write_batch(source, slowing_batch())
    clock.now = NOW
    assert e.evaluate().fired == 1
    (note,) = outbox(store)
    assert note.payload["task"]["name"] == "load"
    assert note.payload["trend"]["ratio"] > 1.2


def test_a_rule_taken_out_of_the_configuration_resolves_its_incidents(store: Store) -> None:
    clock = Clock(T0)
    ids = cross_tool(store)
    e = engine(store, clock, ANY_FAILURE)
    e.evaluate()
    store.write_batch(
        ids["airflow-prod"], airflow_runs([("r1", FAILED, T0 + timedelta(minutes=1))])
    )
    clock.advance(minutes=2)
    e.evaluate()
    other = {"name": "stale", "when": "asset_stale", "notify": ["ops"]}
    assert engine(store, clock, other).evaluate().resolved == 1
    assert [a.status for a in alerts(store)] == ["resolved"]
    assert [o.action for o in outbox(store)] == ["trigger"]  # silently
