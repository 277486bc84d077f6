"""The Airflow adapter against a real Airflow 3.3.2: the catalog equals what the API reports."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import select

from catalog.config import parse_settings
from catalog.store import tables as t
from catalog.store.store import Store
from catalog.sync import sync_sources
from catalog.sync_types import SyncResult, SyncStatus
from tests.adapters.views import (
    assert_a_second_sync_changes_nothing,
    catalog_edges,
    catalog_runs,
    catalog_task_runs,
)
from tests.peers.airflow import PASSWORD_ENV, USERNAME, AirflowStack
from tests.peers.processes import wait_until
from tests.peers.proxy import FaultProxy

pytestmark = [pytest.mark.peers, pytest.mark.xdist_group("peers")]


def sync(store: Store, url: str, **options: Any) -> SyncResult:
    source = {
        "kind": "airflow",
        "base_url": url,
        "username": USERNAME,
        "password_env": PASSWORD_ENV,
    }
    settings = parse_settings({"sources": {"airflow": source | options}}, file="tempox.toml")
    [result] = sync_sources(store, settings)
    return result


def synced(store: Store, url: str) -> None:
    result = sync(store, url)
    assert result.status is SyncStatus.OK, result.error


# -- what the Airflow API says ------------------------------------------------------------------


def api_runs(af: AirflowStack) -> dict[str, dict[str, Any]]:
    return {f"{r['dag_id']}/{r['dag_run_id']}": r for r in af.pages("/dags/~/dagRuns", "dag_runs")}


def api_tries(af: AirflowStack) -> set[tuple[str, str, int, int, str]]:
    """(run, task, try, map index, state) of every try of every task instance."""
    out = set()
    for ti in af.pages("/dags/~/dagRuns/~/taskInstances", "task_instances"):
        tries = [ti]
        if ti["try_number"] > 1:
            path = f"/dags/{ti['dag_id']}/dagRuns/{ti['dag_run_id']}/taskInstances/{ti['task_id']}"
            path += f"/{ti['map_index']}/tries" if ti["map_index"] >= 0 else "/tries"
            tries = af.api("GET", path)["task_instances"]
        for x in tries:
            out.add(
                (
                    f"{x['dag_id']}/{x['dag_run_id']}",
                    x["task_id"],
                    max(x["try_number"], 1),
                    x["map_index"],
                    x["state"] or "none",
                )
            )
    return out


# -- what the catalog says ----------------------------------------------------------------------


def catalog_tries(store: Store) -> set[tuple[Any, ...]]:
    """(run, task, try, map index, Airflow's state) of every task instance try."""
    tr = t.TaskRun
    return catalog_task_runs(store, tr.attempt, tr.map_index, tr.raw_status)


# -- tests --------------------------------------------------------------------------------------


def test_runs_and_every_try_equal_the_api(store: Store, airflow: AirflowStack) -> None:
    synced(store, airflow.url)
    api, ours = api_runs(airflow), catalog_runs(store)
    assert set(ours) == set(api)
    for key, r in api.items():
        run = ours[key]
        link = f"{airflow.url}/dags/{r['dag_id']}/runs/{quote(r['dag_run_id'], safe='')}"
        assert (run.raw_status, run.ui_url) == (r["state"], link)
        assert run.started_at is not None
        assert run.started_at.isoformat().replace("+00:00", "Z") == r["start_date"]
        assert run.duration_s == pytest.approx(r["duration"])
    assert catalog_tries(store) == api_tries(airflow)


def test_failures_retries_and_triggers(store: Store, airflow: AirflowStack) -> None:
    synced(store, airflow.url)
    runs = catalog_runs(store)
    [failing] = [r for k, r in runs.items() if k.startswith("tempox_failing/")]
    error = "transform: ValueError: bad row 1: customer_id is null"  # read from the task's log
    assert (failing.status, failing.error) == ("failed", error)
    with store.session() as s:
        errors = {
            (task, attempt): err
            for task, attempt, err in s.execute(
                select(t.Task.external_id, t.TaskRun.attempt, t.TaskRun.error)
                .join(t.Task, t.Task.id == t.TaskRun.task_id)  # type: ignore[arg-type]
                .where(t.TaskRun.error.is_not(None))  # type: ignore[union-attr]
            )
        }
    assert errors == {
        ("transform", 1): "ValueError: bad row 1: customer_id is null",
        ("flaky", 1): "ConnectionResetError: connection reset by peer (try 1)",
    }
    tries = {
        (run.split("/")[0], task, attempt, status)
        for run, task, attempt, _, status in catalog_tries(store)
    }
    assert ("tempox_failing", "transform", 1, "failed") in tries
    assert ("tempox_failing", "load", 1, "upstream_failed") in tries
    assert ("tempox_retries", "flaky", 1, "failed") in tries
    assert ("tempox_retries", "flaky", 2, "success") in tries
    triggers = {k.split("/")[0] + ":" + r.trigger for k, r in runs.items()}
    assert {"tempox_consumer:event", "tempox_etl:scheduled", "tempox_etl:manual"} <= triggers


def test_dags_tasks_and_import_errors(store: Store, airflow: AirflowStack) -> None:
    synced(store, airflow.url)
    dags = {d["dag_id"]: d for d in airflow.pages("/dags", "dags")}
    with store.session() as s:
        pipelines = {p.external_id: p for p in s.scalars(select(t.Pipeline))}
        owners = {
            (p, o)
            for p, o in s.execute(
                select(t.Pipeline.external_id, t.Owner.name)
                .join(t.Owner, t.Owner.entity_id == t.Pipeline.id)  # type: ignore[arg-type]
                .where(t.Owner.entity_kind == "pipeline")
            )
        }
    assert set(pipelines) == set(dags)
    for dag_id, d in dags.items():
        assert (pipelines[dag_id].paused, pipelines[dag_id].schedule) == (
            d["is_paused"],
            d["timetable_summary"],
        )
        # On a timetable or on assets, a DAG's schedule makes runs while it is not paused.
        active = None if d["timetable_summary"] is None else not d["is_paused"]
        assert pipelines[dag_id].schedule_active is active
        assert {o for p, o in owners if p == dag_id} == set(d["owners"])
    expected_task_edges = {
        ("declared", f"task:{dag_id}.{task['task_id']}", f"task:{dag_id}.{down}")
        for dag_id in dags
        for task in airflow.api("GET", f"/dags/{dag_id}/tasks")["tasks"]
        for down in task["downstream_task_ids"]
    }
    edges = catalog_edges(store)
    assert {e for e in edges if e[1].startswith("task:") and e[2].startswith("task:")} == (
        expected_task_edges
    )
    [state] = store.read_sources_with_state()
    assert state.notices == []  # the test DAGs all import


def test_a_paused_dag_shows_its_schedule_as_not_active(store: Store, airflow: AirflowStack) -> None:
    def shown(dag_id: str) -> tuple[str | None, bool | None, bool | None]:
        synced(store, airflow.url)
        with store.session() as s:
            [p] = s.scalars(select(t.Pipeline).where(t.Pipeline.external_id == dag_id))
        return p.schedule, p.schedule_active, p.paused

    assert shown("tempox_etl") == ("0 0 * * *", True, False)
    assert shown("tempox_consumer") == ("Asset", True, False)  # scheduled on an asset
    assert shown("tempox_failing") == (None, None, False)  # nothing schedules it
    try:
        for dag_id in ("tempox_etl", "tempox_consumer", "tempox_failing"):
            airflow.set_paused(dag_id, True)
        assert shown("tempox_etl") == ("0 0 * * *", False, True)
        assert shown("tempox_consumer") == ("Asset", False, True)
        assert shown("tempox_failing") == (None, None, True)
    finally:
        for dag_id in ("tempox_etl", "tempox_consumer", "tempox_failing"):
            airflow.set_paused(dag_id, False)
    assert shown("tempox_etl") == ("0 0 * * *", True, False)


def test_asset_owners_equal_the_owners_in_their_extra(store: Store, airflow: AirflowStack) -> None:
    synced(store, airflow.url)
    extras = {a["uri"]: a["extra"] for a in airflow.pages("/assets", "assets")}
    assert extras == {
        "s3://lake/raw/orders": {"owners": ["team:ingest"]},
        "s3://lake/staging/orders_clean": {"owner": "alice@example.com, team:analytics"},
    }
    with store.session() as s:
        owners = set(
            s.execute(
                select(t.Asset.uri, t.Owner.name)
                .join(t.Owner, t.Owner.entity_id == t.Asset.id)  # type: ignore[arg-type]
                .where(t.Owner.entity_kind == "asset")
            )
        )
        metadata = dict(s.execute(select(t.Asset.uri, t.Asset.meta)).all())
    assert owners == {
        ("s3://lake/raw/orders", "team:ingest"),
        ("s3://lake/staging/orders_clean", "alice@example.com"),
        ("s3://lake/staging/orders_clean", "team:analytics"),
    }
    assert {u: m["airflow"]["extra"] for u, m in metadata.items()} == extras  # kept as said


def test_assets_and_asset_event_lineage_equal_the_api(store: Store, airflow: AirflowStack) -> None:
    synced(store, airflow.url)
    assets = airflow.pages("/assets", "assets")
    expected = set()
    for a in assets:
        node = f"asset:{a['uri']}"
        expected |= {
            ("declared", f"task:{p['dag_id']}.{p['task_id']}", node) for p in a["producing_tasks"]
        }
        expected |= {
            ("declared", node, f"task:{c['dag_id']}.{c['task_id']}") for c in a["consuming_tasks"]
        }
        expected |= {("declared", node, f"pipeline:{d['dag_id']}") for d in a["scheduled_dags"]}
    events = airflow.pages("/assets/events", "asset_events")
    expected |= {
        ("observed", f"task:{e['source_dag_id']}.{e['source_task_id']}", f"asset:{e['uri']}")
        for e in events
    }
    edges = catalog_edges(store)
    assert {e for e in edges if "asset:" in e[1] + e[2]} == expected
    with store.session() as s:
        rows = s.execute(
            select(t.AssetEvent.kind, t.Asset.uri, t.Run.external_id, t.Task.external_id)
            .join(t.Asset, t.Asset.id == t.AssetEvent.asset_id)  # type: ignore[arg-type]
            .outerjoin(t.Run, t.Run.id == t.AssetEvent.run_id)  # type: ignore[arg-type]
            .outerjoin(t.TaskRun, t.TaskRun.id == t.AssetEvent.task_run_id)  # type: ignore[arg-type]
            .outerjoin(t.Task, t.Task.id == t.TaskRun.task_id)  # type: ignore[arg-type]
        ).all()
    produced = {
        ("produced", e["uri"], f"{e['source_dag_id']}/{e['source_run_id']}", e["source_task_id"])
        for e in events
    }
    consumed = {
        ("consumed", e["uri"], f"{r['dag_id']}/{r['run_id']}", None)
        for e in events
        for r in e["created_dagruns"]
    }
    assert {tuple(r) for r in rows} == produced | consumed
    assert any(e["created_dagruns"] for e in events)  # the consumer was triggered by one


def test_a_second_sync_changes_nothing_and_costs_a_handful_of_requests(
    store: Store, airflow: AirflowStack, proxy: FaultProxy
) -> None:
    # With a short overlap, nothing of this estate is recent enough to be read again: sign in,
    # DAGs, import errors, DAG versions, dag runs, unfinished runs, task instances, asset events.
    assert_a_second_sync_changes_nothing(store, sync, proxy.url, proxy, 8)


def test_new_runs_appear_after_the_next_sync(store: Store, airflow: AirflowStack) -> None:
    synced(store, airflow.url)
    before = set(catalog_runs(store))
    new = [
        ("tempox_failing", airflow.trigger("tempox_failing")),
        ("tempox_etl", airflow.trigger("tempox_etl")),
    ]
    airflow.wait_for_runs(new)
    synced(store, airflow.url)
    runs = catalog_runs(store)
    assert set(runs) - before == {f"{d}/{r}" for d, r in new}
    assert runs[f"tempox_failing/{new[0][1]}"].status == "failed"
    assert runs[f"tempox_etl/{new[1][1]}"].status == "success"
    assert catalog_tries(store) == api_tries(airflow)


def test_a_running_run_is_read_again_until_it_finishes(store: Store, airflow: AirflowStack) -> None:
    run_id = airflow.trigger("tempox_slow")
    key = f"tempox_slow/{run_id}"
    deadline = time.monotonic() + 120
    while airflow.run_state("tempox_slow", run_id) != "running":
        assert time.monotonic() < deadline, "tempox_slow never started"
        time.sleep(0.5)
    synced(store, airflow.url)
    assert catalog_runs(store)[key].status in ("running", "queued")
    airflow.wait_for_runs([("tempox_slow", run_id)])
    assert sync(store, airflow.url, overlap="1s").status is SyncStatus.OK
    run = catalog_runs(store)[key]
    assert (run.status, run.ended_at is not None) == ("success", True)
    assert {(task, status) for r, task, _, _, status in catalog_tries(store) if r == key} == {
        ("wait", "success"),
        ("after", "success"),
    }


def test_import_errors_are_notices_on_the_source_until_fixed(
    store: Store, airflow: AirflowStack
) -> None:
    broken = airflow.home / "dags" / "tempox_broken.py"
    broken.write_text("from airflow.sdk import dag\n\ndef broken(:\n")

    def import_errors() -> list[dict[str, Any]]:
        return airflow.pages("/importErrors", "import_errors")

    try:
        wait_until("an import error", lambda: len(import_errors()) == 1, 120, airflow.services)
        synced(store, airflow.url)
        [error] = import_errors()
        [state] = store.read_sources_with_state()
        last_line = error["stack_trace"].strip().splitlines()[-1].strip()
        assert state.notices == [f"import error in {error['filename']}: {last_line}"]
        assert "SyntaxError" in last_line
    finally:
        broken.unlink()
    wait_until("the import error to clear", lambda: not import_errors(), 120, airflow.services)
    synced(store, airflow.url)
    [state] = store.read_sources_with_state()
    assert state.notices == []
