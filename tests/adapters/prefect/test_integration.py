"""The Prefect adapter against a real Prefect 3.8.8 server: the catalog equals what the API
reports."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from catalog.config import parse_settings
from catalog.store import tables as t
from catalog.store.store import Store
from catalog.sync import sync_sources
from catalog.sync_types import SyncResult, SyncStatus
from tests.adapters.views import (
    assert_a_second_sync_changes_nothing,
    catalog_attempts,
    catalog_edges,
    catalog_labels,
    catalog_runs,
    pipeline_of_runs,
)
from tests.peers.prefect import PrefectServer
from tests.peers.processes import wait_until
from tests.peers.proxy import FaultProxy

pytestmark = [pytest.mark.peers, pytest.mark.xdist_group("peers")]

# Prefect's state names in the catalog's vocabulary (the adapter's documented mapping).
STATUS = {
    "Completed": "success",
    "Failed": "failed",
    "Crashed": "failed",
    "Cancelled": "cancelled",
    "Running": "running",
    "Pending": "queued",
    "Scheduled": "scheduled",
    "Late": "queued",
    "AwaitingRetry": "retrying",
    "Retrying": "retrying",
    "Paused": "waiting",
}
ASSET_EVENT_KINDS = {
    "prefect.asset.materialization.succeeded": "produced",
    "prefect.asset.materialization.failed": "observed",
    "prefect.asset.referenced": "consumed",
}


def sync(store: Store, url: str, **options: Any) -> SyncResult:
    source = {"kind": "prefect", "api_url": url} | options
    settings = parse_settings({"sources": {"prefect": source}}, file="tempox.toml")
    [result] = sync_sources(store, settings)
    return result


def synced(store: Store, url: str) -> None:
    result = sync(store, url)
    assert result.status is SyncStatus.OK, result.error


def when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def task_name(task_key: str) -> str:
    """``extract-9e744495`` → ``extract``: the task key without Prefect's code hash."""
    return task_key.rsplit("-", 1)[0]


# -- what the Prefect API says ------------------------------------------------------------------


def planned(r: dict[str, Any]) -> bool:
    """A run a schedule made for later: it has not happened, so the catalog leaves it out."""
    start = when(r["expected_start_time"])
    return r["state_type"] == "SCHEDULED" and start is not None and start > datetime.now(UTC)


def api_runs(pf: PrefectServer) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in pf.flow_runs() if not planned(r)}


def api_flow_names(pf: PrefectServer) -> dict[str, str]:
    return {f["id"]: f["name"] for f in pf.flows()}


def api_attempts(pf: PrefectServer) -> set[tuple[str, str, int, str, str]]:
    """(flow run, task, attempt, task run id, status) of every attempt of every task run.

    A task run that ran once is attempt 1; one that ran N times is N attempts, told apart by
    its state history: each Running or Retrying state starts one, and all but the last failed.
    """
    out = set()
    for tr in pf.task_runs():
        if tr["flow_run_id"] is None:
            continue
        attempts = 1
        if tr["run_count"] > 1:
            states = pf.task_run_states(tr["id"])
            attempts = sum(s["name"] in ("Running", "Retrying") for s in states)
            assert attempts == tr["run_count"], states  # the harness reads the history right
        run, task = tr["flow_run_id"], task_name(tr["task_key"])
        out |= {(run, task, n, tr["id"], "failed") for n in range(1, attempts)}
        out.add((run, task, attempts, tr["id"], STATUS[tr["state_name"]]))
    return out


def related(event: dict[str, Any], role: str) -> list[str]:
    return [
        r["prefect.resource.id"] for r in event["related"] if r["prefect.resource.role"] == role
    ]


# -- what the catalog says ----------------------------------------------------------------------


# -- tests --------------------------------------------------------------------------------------


def test_flows_and_flow_runs_equal_the_api(store: Store, prefect_server: PrefectServer) -> None:
    pf = prefect_server
    synced(store, pf.url)
    api, ours = api_runs(pf), catalog_runs(store)
    flows = api_flow_names(pf)
    assert set(ours) == set(api)
    assert pipeline_of_runs(store) == {i: flows[r["flow_id"]] for i, r in api.items()}
    run_tags = catalog_labels(store, t.Tag, "run")
    for run_id, r in api.items():
        run = ours[run_id]
        assert (run.raw_status, run.status) == (r["state_name"], STATUS[r["state_name"]])
        assert (run.started_at, run.ended_at) == (when(r["start_time"]), when(r["end_time"]))
        assert run.duration_s == pytest.approx(r["total_run_time"])
        assert {tag for i, tag in run_tags if i == run.id} == set(r["tags"])
        assert run.meta.get("parameters", {}) == r["parameters"]
    children = {r.meta.get("parameters", {}).get("n") for r in ours.values() if r.parent_run_id}
    assert children == {1, 2}  # tempox-child(1) and tempox-child(2)
    with store.session() as s:
        pipelines = {p.external_id: p for p in s.scalars(select(t.Pipeline))}
    assert set(pipelines) == set(flows.values())
    assert catalog_labels(store, t.Owner, "pipeline") == set()  # Prefect has no owners
    assert catalog_labels(store, t.Tag, "pipeline") == set()  # no deployments, no tags


def test_every_attempt_equals_the_state_history(
    store: Store, prefect_server: PrefectServer
) -> None:
    synced(store, prefect_server.url)
    ours = catalog_attempts(store)
    assert ours == api_attempts(prefect_server)
    flow_of = pipeline_of_runs(store)
    flaky = {(attempt, status) for r, task, attempt, _, status in ours if task == "flaky"}
    assert flaky == {(1, "failed"), (2, "success")}
    assert {flow_of[r] for r, task, *_ in ours if task == "flaky"} == {"tempox-retries"}
    # The two attempts of flaky are one Prefect task run: both carry its id.
    assert len({tr for _, task, _, tr, _ in ours if task == "flaky"}) == 1


def test_a_failed_flow_and_its_failed_task(store: Store, prefect_server: PrefectServer) -> None:
    synced(store, prefect_server.url)
    flow_of = pipeline_of_runs(store)
    failing = [r for i, r in catalog_runs(store).items() if flow_of[i] == "tempox-failing"]
    assert failing
    for run in failing:
        assert (run.status, run.raw_status) == ("failed", "Failed")
        assert run.error is not None
        assert run.error.endswith("ValueError: orders feed is empty")
    tasks = {
        (task, status)
        for r, task, _, _, status in catalog_attempts(store)
        if flow_of[r] == "tempox-failing"
    }
    assert tasks == {("extract", "success"), ("explode", "failed")}
    with store.session() as s:
        errors = set(
            s.scalars(
                select(t.TaskRun.error)
                .join(t.Task, t.Task.id == t.TaskRun.task_id)  # type: ignore[arg-type]
                .where(t.Task.external_id == "explode")
            )
        )
    assert len(errors) == 1
    [explode] = errors
    assert explode is not None
    assert explode.endswith("ValueError: orders feed is empty")


def test_task_edges_follow_task_inputs(store: Store, prefect_server: PrefectServer) -> None:
    pf = prefect_server
    synced(store, pf.url)
    flows = api_flow_names(pf)
    flow_of_run = {i: flows[r["flow_id"]] for i, r in api_runs(pf).items()}
    task_runs = {tr["id"]: tr for tr in pf.task_runs() if tr["flow_run_id"]}
    expected = set()
    for tr in task_runs.values():
        flow = flow_of_run[tr["flow_run_id"]]
        for inputs in tr["task_inputs"].values():
            for ref in inputs:
                if ref["input_type"] == "task_run":
                    up = task_runs[ref["id"]]
                    expected.add(
                        (
                            "declared",
                            f"task:{flow}.{task_name(up['task_key'])}",
                            f"task:{flow}.{task_name(tr['task_key'])}",
                        )
                    )
    edges = catalog_edges(store)
    assert {e for e in edges if e[1].startswith("task:") and e[2].startswith("task:")} == expected
    assert {
        ("declared", "task:tempox-etl.extract", "task:tempox-etl.transform"),
        ("declared", "task:tempox-etl.transform", "task:tempox-etl.load"),
        ("declared", "task:tempox-assets.build_orders", "task:tempox-assets.build_report"),
    } <= expected


def test_subflow_runs_name_their_parent_run(store: Store, prefect_server: PrefectServer) -> None:
    pf = prefect_server
    synced(store, pf.url)
    api = api_runs(pf)
    task_runs = {tr["id"]: tr for tr in pf.task_runs()}
    ours = catalog_runs(store)
    external = {run.id: run_id for run_id, run in ours.items()}
    flow_of = pipeline_of_runs(store)
    children = 0
    for run_id, r in api.items():
        parent = ours[run_id].parent_run_id
        if r["parent_task_run_id"] is None:
            assert parent is None, run_id
            continue
        children += 1
        assert parent is not None, run_id
        assert external[parent] == task_runs[r["parent_task_run_id"]]["flow_run_id"]
        assert (flow_of[run_id], flow_of[external[parent]]) == ("tempox-child", "tempox-parent")
    assert children >= 2


def test_assets_asset_events_and_lineage_equal_the_events(
    store: Store, prefect_server: PrefectServer
) -> None:
    pf = prefect_server
    synced(store, pf.url)
    events = pf.asset_events()
    assert {e["event"] for e in events} == set(ASSET_EVENT_KINDS)
    flows = api_flow_names(pf)
    flow_of_run = {i: flows[r["flow_id"]] for i, r in api_runs(pf).items()}
    task_runs = {tr["id"]: tr for tr in pf.task_runs()}
    uris: set[str] = set()
    expected_events = set()
    expected_edges = set()
    for e in events:
        uri = e["resource"]["prefect.resource.id"]
        [flow_run] = [r.removeprefix("prefect.flow-run.") for r in related(e, "flow-run")]
        [task_run] = [r.removeprefix("prefect.task-run.") for r in related(e, "task-run")]
        task = task_name(task_runs[task_run]["task_key"])
        node = f"task:{flow_of_run[flow_run]}.{task}"
        kind = ASSET_EVENT_KINDS[e["event"]]
        failed = "failed" if e["event"].endswith(".failed") else None
        row_count = e["payload"].get("row_count")
        expected_events.add((kind, uri, flow_run, task, task_run, row_count, failed))
        upstream = related(e, "asset")
        uris |= {uri, *upstream}
        if kind == "consumed":
            expected_edges.add(("observed", f"asset:{uri}", node))
        else:
            expected_edges.add(("observed", node, f"asset:{uri}"))
        expected_edges |= {("observed", f"asset:{up}", node) for up in upstream}
    with store.session() as s:
        assert set(s.scalars(select(t.Asset.uri))) == uris
        rows = s.execute(
            select(
                t.AssetEvent.kind,
                t.Asset.uri,
                t.Run.external_id,
                t.Task.external_id,
                t.TaskRun.external_id,
                t.AssetEvent.row_count,
                t.AssetEvent.meta,
            )
            .join(t.Asset, t.Asset.id == t.AssetEvent.asset_id)  # type: ignore[arg-type]
            .outerjoin(t.Run, t.Run.id == t.AssetEvent.run_id)  # type: ignore[arg-type]
            .outerjoin(t.TaskRun, t.TaskRun.id == t.AssetEvent.task_run_id)  # type: ignore[arg-type]
            .outerjoin(t.Task, t.Task.id == t.TaskRun.task_id)  # type: ignore[arg-type]
        ).all()
    ours = [(*row[:6], row[6].get("materialization")) for row in rows]
    assert len(ours) == len(events)
    assert set(ours) == expected_events
    assert {e for e in catalog_edges(store) if "asset:" in e[1] + e[2]} == expected_edges
    orders = "postgres://warehouse:5432/analytics/public/orders"
    assert ("produced", orders, 3) in {(k, uri, rows) for k, uri, _, _, _, rows, _ in ours}
    broken = "s3://lake/reports/orders_broken"
    assert ("observed", broken, "failed") in {(k, uri, f) for k, uri, *_, f in ours}
    assert ("observed", f"asset:{orders}", "task:tempox-assets.build_broken") in expected_edges


def test_a_second_sync_changes_nothing_and_costs_a_handful_of_requests(
    store: Store, prefect_server: PrefectServer, proxy: FaultProxy
) -> None:
    url = f"{proxy.url}/api"
    # With a short overlap nothing of this estate is recent enough to be read again: the CSRF
    # token, flows, deployments, flow runs (due, unfinished, ended), asset events.
    assert_a_second_sync_changes_nothing(store, sync, url, proxy, 7)


def test_new_flow_runs_appear_after_the_next_sync(
    store: Store, prefect_server: PrefectServer
) -> None:
    pf = prefect_server
    synced(store, pf.url)
    before, known = set(catalog_runs(store)), set(api_runs(pf))
    assert before == known
    pf.run_flows("etl", "failing")
    new = set(api_runs(pf)) - known
    assert len(new) == 2
    synced(store, pf.url)
    runs = catalog_runs(store)
    assert set(runs) - before == new
    flow_of = pipeline_of_runs(store)
    assert {(flow_of[i], runs[i].status) for i in new} == {
        ("tempox-etl", "success"),
        ("tempox-failing", "failed"),
    }
    assert catalog_attempts(store) == api_attempts(pf)


def test_a_running_flow_run_is_read_again_until_it_finishes(
    store: Store, prefect_server: PrefectServer
) -> None:
    pf = prefect_server
    known = {tr["id"] for tr in pf.task_runs()}
    running = {"task_runs": {"state": {"type": {"any_": ["RUNNING"]}}}}
    found: list[dict[str, Any]] = []

    def waiting() -> bool:  # tempox-slow's one task sleeps for some seconds
        found[:] = [tr for tr in pf.task_runs(running) if tr["id"] not in known]
        return bool(found)

    process = pf.start_flows("slow")
    try:
        wait_until("tempox-slow's task to run", waiting, 120, pf.services)
        [wait] = found
        run_id = wait["flow_run_id"]
        synced(store, pf.url)
        run = catalog_runs(store)[run_id]
        assert (run.status, run.raw_status, run.ended_at) == ("running", "Running", None)
        assert {a for a in catalog_attempts(store) if a[0] == run_id} == {
            (run_id, "wait", 1, wait["id"], "running")
        }
    finally:
        pf.finish(process)
    assert sync(store, pf.url, overlap="1s").status is SyncStatus.OK
    run = catalog_runs(store)[run_id]
    assert (run.status, run.ended_at is not None) == ("success", True)
    assert pipeline_of_runs(store)[run_id] == "tempox-slow"
    assert {a for a in catalog_attempts(store) if a[0] == run_id} == {
        (run_id, "wait", 1, wait["id"], "success")
    }


def test_future_scheduled_runs_are_not_ingested(
    store: Store, prefect_server: PrefectServer
) -> None:
    pf = prefect_server
    # Daily, first due at least an hour from now, so no planned run falls due during the test.
    cron = f"0 {(datetime.now(UTC).hour + 2) % 24} * * *"
    deployment = pf.create_scheduled_deployment(
        "tempox-scheduled", "daily", cron=cron, tags=("nightly", "team=data")
    )
    try:
        planned_runs = pf.scheduled_runs(deployment)
        assert len(planned_runs) >= 3
        assert all(planned(r) for r in planned_runs)
        synced(store, pf.url)
        ours = catalog_runs(store)
        assert not {r["id"] for r in planned_runs} & set(ours)
        assert set(ours) == set(api_runs(pf))
        with store.session() as s:
            [scheduled] = s.scalars(
                select(t.Pipeline).where(t.Pipeline.external_id == "tempox-scheduled")
            )
        assert (scheduled.schedule, scheduled.schedule_active, scheduled.paused) == (
            cron,
            True,
            False,
        )
        tags = {tag for i, tag in catalog_labels(store, t.Tag, "pipeline") if i == scheduled.id}
        assert tags == {"nightly", "team=data"}
    finally:
        pf.pause_deployment(deployment)  # deletes its scheduled runs
        pf.delete_flow("tempox-scheduled")


def test_a_schedule_is_shown_with_whether_it_makes_runs(
    store: Store, prefect_server: PrefectServer
) -> None:
    pf = prefect_server
    cron = f"0 {(datetime.now(UTC).hour + 2) % 24} * * *"
    deployment = pf.create_scheduled_deployment("tempox-paused", "daily", cron=cron)

    def shown() -> tuple[str | None, bool | None, bool | None]:
        synced(store, pf.url)
        answer = pf.api("GET", f"/deployments/{deployment}")
        with store.session() as s:
            [p] = s.scalars(select(t.Pipeline).where(t.Pipeline.external_id == "tempox-paused"))
        [d] = p.meta["deployments"]
        # The catalog keeps the deployment as the API states it.
        assert d["paused"] is answer["paused"]
        assert [x["active"] for x in d["schedules"]] == [x["active"] for x in answer["schedules"]]
        return p.schedule, p.schedule_active, p.paused

    try:
        assert shown() == (cron, True, False)
        # Paused, its schedule still switched on: shown, but it makes no runs.
        pf.pause_deployment(deployment)
        assert shown() == (cron, False, True)
        # Running again, its schedule switched off: the same.
        pf.resume_deployment(deployment)
        pf.set_schedules_active(deployment, False)
        assert shown() == (cron, False, False)
        pf.set_schedules_active(deployment, True)
        assert shown() == (cron, True, False)
    finally:
        pf.pause_deployment(deployment)  # deletes its scheduled runs
        pf.delete_flow("tempox-paused")


def test_asset_owners_equal_the_owners_the_events_carry(
    store: Store, prefect_server: PrefectServer
) -> None:
    pf = prefect_server
    synced(store, pf.url)
    expected: dict[str, set[str]] = {}
    for e in pf.asset_events():
        label = e["resource"].get("prefect.asset.owners")
        expected.setdefault(e["resource"]["prefect.resource.id"], set()).update(
            json.loads(label) if label else ()
        )
    orders = "postgres://warehouse:5432/analytics/public/orders"
    assert expected[orders] == {"alice@example.com", "analytics"}  # the estate's properties
    with store.session() as s:
        uris = dict(s.execute(select(t.Asset.id, t.Asset.uri)).all())
        [description] = s.scalars(select(t.Asset.description).where(t.Asset.uri == orders))
    ours: dict[str, set[str]] = {}
    for i, name in catalog_labels(store, t.Owner, "asset"):
        ours.setdefault(uris[i], set()).add(name)
    assert ours == {uri: names for uri, names in expected.items() if names}
    assert description == "Orders, cleaned"
