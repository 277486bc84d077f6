"""Prefect API answers, recorded from a real Prefect 3.8.8 server, mapped into catalog records.

The JSON under ``tests/fixtures/prefect`` is what the server answered (see
``record_fixtures.py``); it is loaded into prefect-client's models exactly as
``SyncPrefectClient`` does with an answer, so these tests need no server.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from prefect.client.orchestration import SyncPrefectClient
from prefect.client.schemas.events import EventPage
from prefect.client.schemas.objects import Flow, FlowRun, State, TaskRun
from prefect.client.schemas.responses import DeploymentResponse
from prefect.client.schemas.schedules import CronSchedule, IntervalSchedule, RRuleSchedule
from prefect.events.schemas.events import ReceivedEvent
from pydantic import TypeAdapter
from sqlalchemy import select

from adapters.prefect import PrefectAdapter, PrefectConfig, mapping
from adapters.prefect.adapter import _Sync
from catalog.enums import AssetEventKind, EdgeOrigin, RunStatus, TriggerKind
from catalog.records import Batch, EdgeRecord, NodeRef
from catalog.store import tables as t
from catalog.store.store import Store
from tests.catalog.store.snapshot import counts, snapshot

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "prefect"
API = "http://prefect.example.com:4200/api"
UI = "http://prefect.example.com:4200"
LINKS = mapping.Links(UI + "/")

RAW_ORDERS = "postgres://warehouse:5432/analytics/public/raw_orders"
ORDERS = "postgres://warehouse:5432/analytics/public/orders"
REPORT = "s3://lake/reports/orders_daily"
BROKEN = "s3://lake/reports/orders_broken"
EXPLODE_ERROR = "ValueError: orders feed is empty"
BROKEN_ERROR = "RuntimeError: report bucket is read-only"


def recorded(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text())


# -- the recording, as the client's models ------------------------------------------------------


def flows() -> list[Flow]:
    return Flow.model_validate_list(recorded("flows"))


def deployments() -> list[DeploymentResponse]:
    return DeploymentResponse.model_validate_list(recorded("deployments"))


def flow_runs() -> list[FlowRun]:
    return FlowRun.model_validate_list(recorded("flow_runs"))


def task_runs() -> list[TaskRun]:
    return TypeAdapter(list[TaskRun]).validate_python(recorded("task_runs"))


def flaky_states() -> list[State]:
    return TypeAdapter(list[State]).validate_python(recorded("task_run_states_flaky"))


def event_page() -> EventPage:
    return EventPage.model_validate(recorded("asset_events"))


def events() -> list[ReceivedEvent]:
    return event_page().events


def flow_names() -> dict[UUID, str]:
    return {f.id: f.name for f in flows()}


def runs_of(flow: str) -> list[FlowRun]:
    names = flow_names()
    return [r for r in flow_runs() if names[r.flow_id] == flow]


def one_run(flow: str) -> FlowRun:
    (found,) = runs_of(flow)
    return found


def task_runs_of(flow: str, task: str | None = None) -> list[TaskRun]:
    run_ids = {r.id for r in runs_of(flow)}
    return [
        x
        for x in task_runs()
        if x.flow_run_id in run_ids and (task is None or mapping.task_id(x.task_key) == task)
    ]


def one_task_run(flow: str, task: str) -> TaskRun:
    (found,) = task_runs_of(flow, task)
    return found


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def raw_run(flow: str) -> dict[str, Any]:
    (found,) = [r for r in recorded("flow_runs") if r["id"] == str(one_run(flow).id)]
    return dict(found)


def parents() -> dict[UUID, str]:
    """Each subflow run's parent run, found as the adapter finds it: through the parent's task
    run that called it (``parent_task_run_id``)."""
    by_id = {x.id: x for x in task_runs()}
    return {
        r.id: str(by_id[r.parent_task_run_id].flow_run_id)
        for r in flow_runs()
        if r.parent_task_run_id is not None
    }


def run_record(flow: str, r: FlowRun | None = None) -> Any:
    r = r or one_run(flow)
    return mapping.run(r, flow, LINKS, parents().get(r.id))


def test_the_recording_is_what_these_tests_expect() -> None:
    """A re-recording against a different set of runs should fail here first, not below."""
    assert sorted(f.name for f in flows()) == [
        "tempox-assets",
        "tempox-child",
        "tempox-etl",
        "tempox-failing",
        "tempox-parent",
        "tempox-retries",
    ]
    assert deployments() == []  # the flows were run as scripts, not deployed
    assert {f: len(runs_of(f)) for f in flow_names().values()} == {
        "tempox-assets": 1,
        "tempox-child": 2,
        "tempox-etl": 1,
        "tempox-failing": 1,
        "tempox-parent": 1,
        "tempox-retries": 1,
    }
    assert sorted(mapping.task_id(x.task_key) for x in task_runs()) == sorted(
        [
            *("extract", "transform", "load"),  # tempox-etl
            *("extract", "explode"),  # tempox-failing
            "flaky",  # tempox-retries
            *("child", "child"),  # tempox-parent
            *("transform", "transform"),  # tempox-child, twice
            *("build_orders", "build_report", "build_broken"),  # tempox-assets
        ]
    )
    assert [s.name for s in flaky_states()] == ["Pending", "Running", "Retrying", "Completed"]
    page = event_page()
    assert (page.total, len(page.events), page.next_page) == (6, 6, None)  # one page
    assert sorted(e.event for e in page.events) == sorted(
        [mapping.MATERIALIZED] * 2 + [mapping.MATERIALIZATION_FAILED] + [mapping.REFERENCED] * 3
    )


# -- flows and tasks ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("extract-9e744495", "extract"),
        ("build_orders-ea33ad00", "build_orders"),
        ("child-0cf2b159", "child"),
        ("my-task-0cf2b159", "my-task"),  # dashes in the name stay
        ("extract", "extract"),  # no hash
        ("extract-9e74449", "extract-9e74449"),  # seven hex digits: not a hash
        ("extract-9e7444951", "extract-9e7444951"),  # nine
        ("extract-9E744495", "extract-9E744495"),  # Prefect's hashes are lowercase
        ("extract-9e744495-0cf2b159", "extract-9e744495"),  # only the last one
        ("extract_9e744495", "extract_9e744495"),
    ],
)
def test_task_ids_drop_the_code_hash(key: str, expected: str) -> None:
    assert mapping.task_id(key) == expected


def test_every_recorded_task_key_ends_in_a_code_hash() -> None:
    for x in task_runs():
        assert mapping.task_id(x.task_key) != x.task_key
        assert x.task_key.startswith(mapping.task_id(x.task_key) + "-")
        assert len(x.task_key) - len(mapping.task_id(x.task_key)) == 9


def test_flows_without_deployments_become_pipelines() -> None:
    pipelines = {p.external_id: (f, p) for f in flows() for p in [mapping.pipeline(f, [], LINKS)]}
    assert set(pipelines) == set(flow_names().values())
    for name, (f, p) in pipelines.items():
        assert p.name == name
        assert p.description is None
        assert p.owners == ()
        assert p.tags == ()  # the flows have no tags of their own (their runs do)
        assert p.schedule is None
        assert p.paused is None  # nothing to pause without a deployment
        assert p.ui_url == f"{UI}/flows/flow/{f.id}"
        assert p.metadata == {"flow_id": str(f.id)}


@pytest.mark.parametrize(
    ("schedule", "described"),
    [
        (CronSchedule(cron="0 * * * *"), "0 * * * *"),
        (CronSchedule(cron="30 6 * * 1-5", timezone="Europe/Berlin"), "30 6 * * 1-5"),
        (IntervalSchedule(interval=timedelta(hours=1)), "every 3600s"),
        (IntervalSchedule(interval=timedelta(seconds=90)), "every 90s"),
        (IntervalSchedule(interval=timedelta(days=1)), "every 86400s"),
        (RRuleSchedule(rrule="FREQ=WEEKLY;BYDAY=MO"), "FREQ=WEEKLY;BYDAY=MO"),
    ],
)
def test_schedules_as_people_write_them(schedule: Any, described: str) -> None:
    assert mapping.describe_schedule(schedule) == described


def test_task_records_and_their_upstream_from_task_inputs() -> None:
    extract, transform, load = (
        one_task_run("tempox-etl", x) for x in ("extract", "transform", "load")
    )
    assert mapping.upstream_task_runs(extract) == []
    assert mapping.upstream_task_runs(transform) == [extract.id]
    assert mapping.upstream_task_runs(load) == [transform.id]  # suffix is a plain parameter
    record = mapping.task(load, "tempox-etl", ["transform"], LINKS)
    assert (record.pipeline_id, record.external_id, record.name) == ("tempox-etl", "load", "load")
    assert record.kind == "task"
    assert record.upstream == ("transform",)
    assert record.metadata == {"task_key": load.task_key, "retries": 0}
    # Upstream names are sorted and unique; a task is never its own upstream.
    again = mapping.task(load, "tempox-etl", ["transform", "load", "extract", "transform"], LINKS)
    assert again.upstream == ("extract", "transform")


def test_asset_tasks_pass_results_too() -> None:
    orders, report, broken = (
        one_task_run("tempox-assets", x) for x in ("build_orders", "build_report", "build_broken")
    )
    assert mapping.upstream_task_runs(report) == [orders.id]
    # build_broken depends on the orders asset, not on a task's result: no task input.
    assert mapping.upstream_task_runs(broken) == []
    assert mapping.upstream_task_runs(orders) == []


def test_a_subflow_is_a_task_of_its_parent() -> None:
    calls = task_runs_of("tempox-parent", "child")
    assert len(calls) == 2
    for call in calls:
        assert mapping.upstream_task_runs(call) == []  # n is a plain parameter
        record = mapping.task(call, "tempox-parent", [], LINKS)
        assert (record.external_id, record.kind) == ("child", "subflow")
    children = {str(r.id) for r in runs_of("tempox-child")}
    assert {mapping.task_runs(c, None, LINKS)[0].metadata["child_flow_run_id"] for c in calls} == (
        children
    )
    plain = mapping.task(one_task_run("tempox-retries", "flaky"), "tempox-retries", [], LINKS)
    assert plain.kind == "task"
    assert plain.metadata["retries"] == 2


# -- flow runs ----------------------------------------------------------------------------------

EXPECTED_RUNS = {
    # flow: (status, raw status, trigger, error)
    "tempox-etl": (RunStatus.SUCCESS, "Completed", TriggerKind.MANUAL, None),
    "tempox-failing": (RunStatus.FAILED, "Failed", TriggerKind.MANUAL, EXPLODE_ERROR),
    "tempox-retries": (RunStatus.SUCCESS, "Completed", TriggerKind.MANUAL, None),
    "tempox-parent": (RunStatus.SUCCESS, "Completed", TriggerKind.MANUAL, None),
    "tempox-assets": (RunStatus.FAILED, "Failed", TriggerKind.MANUAL, BROKEN_ERROR),
}


@pytest.mark.parametrize(("flow", "expected"), sorted(EXPECTED_RUNS.items()))
def test_run_statuses_triggers_and_errors(flow: str, expected: tuple[Any, ...]) -> None:
    r = one_run(flow)
    record = run_record(flow)
    assert (record.status, record.raw_status, record.trigger, record.error) == expected
    assert record.pipeline_id == flow
    assert record.external_id == str(r.id)
    assert record.raw_status == r.state_name
    assert record.parent_run_id is None
    assert record.ui_url == f"{UI}/runs/flow-run/{r.id}"
    json.dumps(dict(record.metadata))  # stored as JSON: it must serialise


def test_a_failed_run_s_error_drops_prefect_s_preamble() -> None:
    raw = raw_run("tempox-failing")
    assert raw["state"]["message"] == f"Flow run encountered an exception: {EXPLODE_ERROR}"
    record = run_record("tempox-failing")
    assert record.error == EXPLODE_ERROR
    assert record.metadata["state_message"] == raw["state"]["message"]  # kept as Prefect said it


def test_run_times_tags_and_metadata() -> None:
    raw = raw_run("tempox-etl")
    record = run_record("tempox-etl")
    assert record.queued_at == at(raw["expected_start_time"])
    assert record.started_at == at(raw["start_time"])
    assert record.ended_at == at(raw["end_time"])
    assert record.started_at is not None
    assert record.started_at.tzinfo is not None
    assert record.logical_date is None
    assert record.duration_s == raw["total_run_time"]
    assert record.tags == ("etl", "tempox")  # the tags() context the flow ran in
    assert record.metadata == {
        "name": raw["name"],
        "parameters": {"suffix": "daily"},
        "run_count": 1,
        "flow_version": raw["flow_version"],
    }


def test_runs_without_parameters_leave_them_out() -> None:
    record = run_record("tempox-retries")
    assert "parameters" not in record.metadata
    assert "state_message" not in record.metadata  # Completed said nothing
    assert "deployment_id" not in record.metadata
    assert "created_by" not in record.metadata


def test_subflow_runs_name_their_parent_run_and_were_triggered_by_it() -> None:
    parent = one_run("tempox-parent")
    children = runs_of("tempox-child")
    assert len(children) == 2
    found = parents()
    for child in children:
        assert found[child.id] == str(parent.id)
        record = run_record("tempox-child", child)
        assert record.parent_run_id == str(parent.id)
        assert record.trigger is TriggerKind.EVENT
        assert record.status is RunStatus.SUCCESS
        assert record.tags == ("parent", "tempox")
    assert sorted(run_record("tempox-child", c).metadata["parameters"]["n"] for c in children) == [
        1,
        2,
    ]
    # The parent's task runs that called them point at them too.
    states = [x.state for x in task_runs_of("tempox-parent")]
    calls = {s.state_details.child_flow_run_id for s in states if s is not None}
    assert calls == {c.id for c in children}


# -- task runs and attempts ---------------------------------------------------------------------


def test_every_task_run_without_history_is_one_attempt() -> None:
    for x in task_runs():
        if x.run_count > 1:
            continue
        (record,) = mapping.task_runs(x, None, LINKS)
        assert record.run_id == str(x.flow_run_id)
        assert record.task_id == mapping.task_id(x.task_key)
        assert record.external_id == str(x.id)
        assert record.attempt == 1
        assert record.map_index == -1
        assert record.raw_status == x.state_name
        assert record.queued_at == x.expected_start_time
        assert record.started_at == x.start_time
        assert record.ended_at == x.end_time
        assert record.duration_s == x.total_run_time.total_seconds()
        assert record.log_url == f"{UI}/runs/task-run/{x.id}"
        json.dumps(dict(record.metadata))


@pytest.mark.parametrize(
    ("flow", "task", "status", "raw", "error"),
    [
        ("tempox-etl", "load", RunStatus.SUCCESS, "Completed", None),
        ("tempox-failing", "extract", RunStatus.SUCCESS, "Completed", None),
        ("tempox-failing", "explode", RunStatus.FAILED, "Failed", EXPLODE_ERROR),
        ("tempox-assets", "build_broken", RunStatus.FAILED, "Failed", BROKEN_ERROR),
        ("tempox-assets", "build_report", RunStatus.SUCCESS, "Completed", None),
    ],
)
def test_task_run_statuses_and_errors(
    flow: str, task: str, status: RunStatus, raw: str, error: str | None
) -> None:
    x = one_task_run(flow, task)
    (record,) = mapping.task_runs(x, None, LINKS)
    assert (record.status, record.raw_status, record.error) == (status, raw, error)


def test_a_failed_task_s_error_drops_prefect_s_preamble() -> None:
    explode = one_task_run("tempox-failing", "explode")
    assert explode.state is not None
    # Task runs say it without the colon that flow runs put after "exception".
    assert explode.state.message == f"Task run encountered an exception {EXPLODE_ERROR}"
    assert mapping.error(explode.state) == EXPLODE_ERROR


def test_the_retried_task_s_history_gives_each_attempt() -> None:
    flaky = one_task_run("tempox-retries", "flaky")
    assert flaky.run_count == 2
    pending, running, retrying, completed = flaky_states()
    first, second = mapping.task_runs(flaky, flaky_states(), LINKS)
    assert (first.attempt, first.status) == (1, RunStatus.FAILED)
    assert (second.attempt, second.status) == (2, RunStatus.SUCCESS)
    # The first attempt ran from Running until Prefect set Retrying; the second from there.
    assert (first.started_at, first.ended_at) == (running.timestamp, retrying.timestamp)
    assert (second.started_at, second.ended_at) == (retrying.timestamp, flaky.end_time)
    assert flaky.end_time == completed.timestamp
    assert flaky.start_time == running.timestamp
    assert second.raw_status == "Completed"
    # Prefect's history does not keep the exception of a retried attempt (Retrying says "").
    assert first.error is None
    assert second.error is None
    for record in (first, second):
        assert record.run_id == str(flaky.flow_run_id)
        assert record.task_id == "flaky"
        assert record.external_id == str(flaky.id)  # one Prefect task run, two attempts
        assert record.queued_at is None
        assert record.duration_s is None  # the store computes it from start and end
        assert record.log_url == f"{UI}/runs/task-run/{flaky.id}"
    assert pending.timestamp < running.timestamp


def test_the_history_is_ordered_by_time_not_by_the_answer() -> None:
    flaky = one_task_run("tempox-retries", "flaky")
    forward = mapping.task_runs(flaky, flaky_states(), LINKS)
    assert mapping.task_runs(flaky, list(reversed(flaky_states())), LINKS) == forward


def test_the_retried_task_without_its_history_is_one_record() -> None:
    flaky = one_task_run("tempox-retries", "flaky")
    for history in (None, []):
        (record,) = mapping.task_runs(flaky, history, LINKS)
        assert (record.attempt, record.status, record.raw_status) == (
            2,
            RunStatus.SUCCESS,
            "Completed",
        )
        assert record.started_at == flaky.start_time
        assert record.duration_s == flaky.total_run_time.total_seconds()
        assert record.metadata["run_count"] == 2


def test_a_history_of_one_attempt_changes_nothing() -> None:
    """A task run that ran once keeps its one record, whatever history comes with it."""
    load = one_task_run("tempox-etl", "load")
    assert mapping.task_runs(load, flaky_states(), LINKS) == mapping.task_runs(load, None, LINKS)
    flaky = one_task_run("tempox-retries", "flaky")
    pending, running, _, completed = flaky_states()
    once = mapping.task_runs(flaky, [pending, running, completed], LINKS)
    assert once == mapping.task_runs(flaky, None, LINKS)


def test_the_failed_attempt_s_raw_status_is_not_running() -> None:
    flaky = one_task_run("tempox-retries", "flaky")
    first, _ = mapping.task_runs(flaky, flaky_states(), LINKS)
    assert first.status is RunStatus.FAILED
    assert first.raw_status != "Running"


@pytest.mark.parametrize(
    ("message", "error"),
    [
        (f"Flow run encountered an exception: {EXPLODE_ERROR}", EXPLODE_ERROR),
        (f"Task run encountered an exception {EXPLODE_ERROR}", EXPLODE_ERROR),
        (f"Task run encountered an exception: {EXPLODE_ERROR}\n", EXPLODE_ERROR),
        ("Flow run encountered an exception: ", "Flow run encountered an exception:"),
        ("Run timed out after 10s", "Run timed out after 10s"),
        ("  crashed: SIGTERM  ", "crashed: SIGTERM"),
        ("", None),
        (None, None),
    ],
)
def test_errors_from_state_messages(message: str | None, error: str | None) -> None:
    state = flaky_states()[-1].model_copy(update={"message": message})
    assert mapping.error(state) == error


def test_no_state_no_error() -> None:
    assert mapping.error(None) is None


# -- asset events -------------------------------------------------------------------------------


def event(name: str, uri: str, task: str) -> ReceivedEvent:
    by_id = {x.id: x for x in task_runs()}
    found = []
    for e in events():
        task_run = mapping.related_id(e, "task-run", "prefect.task-run.")
        assert task_run is not None
        if (e.event, e.resource.id, mapping.task_id(by_id[task_run].task_key)) == (name, uri, task):
            found.append(e)
    (one,) = found
    return one


def context(e: ReceivedEvent) -> tuple[str, str, str]:
    """The run, flow and task an event names, as the adapter resolves them."""
    by_id = {x.id: x for x in task_runs()}
    runs = {r.id: r for r in flow_runs()}
    task_run = mapping.related_id(e, "task-run", "prefect.task-run.")
    flow_run = mapping.related_id(e, "flow-run", "prefect.flow-run.")
    assert task_run is not None
    assert flow_run is not None
    assert by_id[task_run].flow_run_id == flow_run
    return (
        str(flow_run),
        flow_names()[runs[flow_run].flow_id],
        mapping.task_id(by_id[task_run].task_key),
    )


def observed(up: NodeRef, down: NodeRef, e: ReceivedEvent) -> EdgeRecord:
    return EdgeRecord(up, down, EdgeOrigin.OBSERVED, e.occurred)


def task_node(task: str) -> NodeRef:
    return NodeRef.of_task("tempox-assets", task)


def test_every_event_names_its_run_and_task() -> None:
    run = str(one_run("tempox-assets").id)
    assert {context(e) for e in events()} == {
        (run, "tempox-assets", "build_orders"),
        (run, "tempox-assets", "build_report"),
        (run, "tempox-assets", "build_broken"),
    }


def test_a_materialization_is_a_produced_event_with_its_row_count() -> None:
    e = event(mapping.MATERIALIZED, ORDERS, "build_orders")
    run_id, flow, task = context(e)
    record, edges = mapping.asset_event(e, run_id, flow, task)
    assert record.kind is AssetEventKind.PRODUCED
    assert record.asset_uri == ORDERS
    assert record.at == e.occurred
    assert (record.run_id, record.task_id, record.attempt) == (run_id, "build_orders", None)
    assert record.row_count == 3
    assert record.external_id == f"prefect-event:{e.id}"
    assert record.metadata == {
        "event": mapping.MATERIALIZED,
        "payload": {"row_count": 3, "columns": ["id", "amount"]},  # add_asset_metadata's
        "upstream_assets": [RAW_ORDERS],  # asset_deps
    }
    assert edges == [
        observed(task_node("build_orders"), NodeRef.asset(ORDERS), e),
        observed(NodeRef.asset(RAW_ORDERS), task_node("build_orders"), e),
    ]


def test_a_materialization_from_another_task_s_result() -> None:
    e = event(mapping.MATERIALIZED, REPORT, "build_report")
    record, edges = mapping.asset_event(e, *context(e))
    assert record.kind is AssetEventKind.PRODUCED
    assert record.row_count == 3
    assert record.metadata["upstream_assets"] == [ORDERS]  # the asset build_orders returned
    assert edges == [
        observed(task_node("build_report"), NodeRef.asset(REPORT), e),
        observed(NodeRef.asset(ORDERS), task_node("build_report"), e),
    ]


def test_a_failed_materialization_is_an_observed_event() -> None:
    e = event(mapping.MATERIALIZATION_FAILED, BROKEN, "build_broken")
    record, edges = mapping.asset_event(e, *context(e))
    assert record.kind is AssetEventKind.OBSERVED
    assert record.asset_uri == BROKEN
    assert record.row_count is None
    assert record.task_id == "build_broken"
    assert record.metadata == {
        "event": mapping.MATERIALIZATION_FAILED,
        "materialization": "failed",
        "upstream_assets": [ORDERS],
    }
    # The task meant to write it: lineage all the same.
    assert edges == [
        observed(task_node("build_broken"), NodeRef.asset(BROKEN), e),
        observed(NodeRef.asset(ORDERS), task_node("build_broken"), e),
    ]


@pytest.mark.parametrize(
    ("uri", "task"),
    [(RAW_ORDERS, "build_orders"), (ORDERS, "build_report"), (ORDERS, "build_broken")],
)
def test_a_referenced_asset_is_a_consumed_event(uri: str, task: str) -> None:
    e = event(mapping.REFERENCED, uri, task)
    run_id, flow, found_task = context(e)
    record, edges = mapping.asset_event(e, run_id, flow, found_task)
    assert record.kind is AssetEventKind.CONSUMED
    assert record.asset_uri == uri
    assert (record.run_id, record.task_id) == (run_id, task)
    assert record.row_count is None
    assert record.metadata == {"event": mapping.REFERENCED}
    assert edges == [observed(NodeRef.asset(uri), task_node(task), e)]


def test_an_event_of_an_unknown_run_links_nothing() -> None:
    e = event(mapping.MATERIALIZED, ORDERS, "build_orders")
    record, edges = mapping.asset_event(e, None, None, "build_orders")
    assert (record.run_id, record.task_id) == (None, None)
    assert edges == []
    # A known run but no task: the event is the run's, and there is no node to draw.
    record, edges = mapping.asset_event(e, str(one_run("tempox-assets").id), "tempox-assets", None)
    assert record.task_id is None
    assert record.run_id == str(one_run("tempox-assets").id)
    assert edges == []


@pytest.mark.parametrize(
    ("payload", "rows"),
    [({"row_count": 42}, 42), ({"row_count": "42"}, None), ({"rows": 7}, None), ({}, None)],
)
def test_row_counts_from_the_payload(payload: dict[str, Any], rows: int | None) -> None:
    e = event(mapping.MATERIALIZED, ORDERS, "build_orders").model_copy(update={"payload": payload})
    record, _ = mapping.asset_event(e, *context(e))
    assert record.row_count == rows


def test_a_boolean_row_count_is_not_a_count() -> None:
    e = event(mapping.MATERIALIZED, ORDERS, "build_orders")
    e = e.model_copy(update={"payload": {"row_count": True}})
    record, _ = mapping.asset_event(e, *context(e))
    assert record.row_count is None


def test_assets_from_events() -> None:
    records = {e.resource.id: mapping.asset(e) for e in events()}
    assert set(records) == {RAW_ORDERS, ORDERS, REPORT, BROKEN}
    for uri, record in records.items():
        assert record.uri == uri
        assert record.description is None
        assert record.metadata == {}  # the resources carry no labels beyond their id


def with_resource_labels(e: ReceivedEvent, **labels: str) -> ReceivedEvent:
    """The recorded event with labels added to its resource, as ``AssetProperties`` would
    have put them there (``prefect.context.AssetContext.asset_as_resource``)."""
    resource = e.resource.model_copy(update={"root": {**e.resource.root, **labels}})
    return e.model_copy(update={"resource": resource})


def test_asset_owners_and_description_from_the_resource_s_properties() -> None:
    # Edited: the recorded assets were declared without properties.
    e = with_resource_labels(
        event(mapping.MATERIALIZED, ORDERS, "build_orders"),
        **{
            "prefect.resource.name": "Orders",
            "prefect.asset.description": "Orders, cleaned",
            "prefect.asset.owners": json.dumps(["alice@example.com", "team:analytics"]),
        },
    )
    record = mapping.asset(e)
    assert record.owners == ("alice@example.com", "team:analytics")
    assert record.description == "Orders, cleaned"
    assert record.metadata["labels"]["prefect.asset.owners"] == (
        '["alice@example.com", "team:analytics"]'
    )


@pytest.mark.parametrize(
    ("label", "owners"),
    [
        ('["alice", "bob", "alice"]', ("alice", "bob")),
        ('[" alice ", "", 7, null, ["x"]]', ("alice",)),  # only names count
        ("[]", ()),
        ('"alice"', ()),  # not a list
        ('{"owners": ["alice"]}', ()),
        ("alice, bob", ()),  # not JSON: Prefect always writes a JSON list
        ("", ()),
        (None, ()),
    ],
)
def test_asset_owners_label(label: str | None, owners: tuple[str, ...]) -> None:
    assert mapping.asset_owners(label) == owners


def test_related_ids() -> None:
    e = event(mapping.MATERIALIZED, ORDERS, "build_orders")
    assert mapping.related(e, "asset") == [RAW_ORDERS]
    assert mapping.related(e, "tag") == ["prefect.tag.assets", "prefect.tag.tempox"]
    assert mapping.related(e, "nothing") == []
    flow_run = mapping.related_id(e, "flow-run", "prefect.flow-run.")
    assert flow_run == one_run("tempox-assets").id
    flow = mapping.related_id(e, "flow", "prefect.flow.")
    assert flow_names()[flow] == "tempox-assets"  # type: ignore[index]
    assert mapping.related_id(e, "flow-run", "prefect.task-run.") is None  # another prefix
    assert mapping.related_id(e, "deployment", "prefect.deployment.") is None
    assert mapping.related_id(e, "tag", "prefect.tag.") is None  # "assets" is not a UUID


# -- links --------------------------------------------------------------------------------------


def test_links() -> None:
    f = next(x for x in flows() if x.name == "tempox-etl")
    r = one_run("tempox-etl")
    x = one_task_run("tempox-etl", "load")
    for links in (LINKS, mapping.Links(UI), mapping.Links(UI + "//")):
        assert links.flow(f.id) == f"{UI}/flows/flow/{f.id}"
        assert links.flow_run(r.id) == f"{UI}/runs/flow-run/{r.id}"
        assert links.task_run(x.id) == f"{UI}/runs/task-run/{x.id}"
        assert links.deployment(f.id) == f"{UI}/deployments/deployment/{f.id}"
    cloud = PrefectConfig(
        api_url="https://api.prefect.cloud/api/accounts/a1/workspaces/w2"
    ).default_ui_url()
    assert mapping.Links(cloud).flow_run(r.id) == (
        f"https://app.prefect.cloud/account/a1/workspace/w2/runs/flow-run/{r.id}"
    )


# -- the whole recording, through the adapter, into a real store ---------------------------------


class RecordedSession:
    """Answers the adapter's calls with the recording: only calls whose recorded answer is the
    server's answer to them (the flows, the deployments, every flow run's task runs, flaky's
    state history). Any other call fails the test."""

    def __init__(self) -> None:
        self.config = PrefectConfig(api_url=API)
        self.client = SyncPrefectClient(API)  # never opened: only its methods are named
        self.server_time: datetime | None = None
        self.asked: list[str] = []

    def call(self, what: str, method: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        self.asked.append(what)
        name = getattr(method, "__name__", "")
        if name in ("read_flows", "read_deployments"):
            assert kwargs["offset"] == 0
            found: Sequence[Any] = flows() if name == "read_flows" else deployments()
            assert len(found) < kwargs["limit"]  # one page
            return list(found)
        if name == "read_task_runs":
            # Recorded without a filter: the answer for every flow run at once.
            wanted = set(kwargs["flow_run_filter"].id.any_)
            assert wanted == {r.id for r in flow_runs()}
            assert kwargs["offset"] == 0
            return task_runs()
        if name == "read_task_run_states":
            assert args == (one_task_run("tempox-retries", "flaky").id,)
            return flaky_states()
        raise AssertionError(f"the recording has no answer to {what}")


def adapter_batches() -> tuple[RecordedSession, list[Batch]]:
    """The recording as the adapter's first sync yields it: definitions, then the flow runs
    with their task runs, then the asset events."""
    adapter = PrefectAdapter("prefect", PrefectConfig(api_url=API))
    recorded_session = RecordedSession()
    adapter._session = recorded_session  # type: ignore[assignment]
    sync = _Sync(adapter, None)
    batches = [
        Batch(cursor={}, pipelines=sync._definitions()),
        sync._runs_batch(flow_runs(), {}),
        sync._events_batch(events(), {}),
        Batch(cursor={"since": "2026-11-24T13:25:00+00:00"}),
    ]
    return recorded_session, batches


def test_the_adapter_assembles_the_recording_without_other_calls() -> None:
    recorded_session, (definitions, runs, assets, _) = adapter_batches()
    flaky = one_task_run("tempox-retries", "flaky")
    assert recorded_session.asked == [
        "POST /flows/filter",
        "POST /deployments/filter",
        "POST /task_runs/filter",
        f"GET /task_run_states/?task_run_id={flaky.id}",
    ]
    assert {p.external_id for p in definitions.pipelines} == set(flow_names().values())
    assert len(runs.runs) == 7
    assert {r.external_id: r.parent_run_id for r in runs.runs if r.parent_run_id} == {
        str(k): v for k, v in parents().items()
    }
    assert {(x.pipeline_id, x.external_id): x.upstream for x in runs.tasks} == {
        ("tempox-etl", "extract"): (),
        ("tempox-etl", "transform"): ("extract",),
        ("tempox-etl", "load"): ("transform",),
        ("tempox-failing", "extract"): (),
        ("tempox-failing", "explode"): (),
        ("tempox-retries", "flaky"): (),
        ("tempox-parent", "child"): (),
        ("tempox-child", "transform"): (),
        ("tempox-assets", "build_orders"): (),
        ("tempox-assets", "build_report"): ("build_orders",),
        ("tempox-assets", "build_broken"): (),
    }
    assert len(runs.task_runs) == 14  # 13 task runs, flaky twice
    assert len(assets.asset_events) == 6
    assert {a.uri for a in assets.assets} == {RAW_ORDERS, ORDERS, REPORT, BROKEN}
    assert assets.runs == ()  # every run the events name was read with its task runs


def test_the_whole_recording_is_written_to_the_store(store: Store) -> None:
    source = store.ensure_source("prefect", "prefect", base_url=API)
    _, batches = adapter_batches()
    for batch in batches:
        store.write_batch(source, batch)
    written = counts(store)
    assert {k: v for k, v in written.items() if k != "meta"} == {
        "source": 1,
        "pipeline": 6,
        "task": 11,
        "run": 7,
        "task_run": 14,  # 13 task runs and flaky's first attempt
        "asset": 4,
        "asset_alias": 0,
        "asset_link": 0,
        "asset_event": 6,  # 2 produced, 1 observed (failed), 3 consumed
        "check_result": 0,
        # task→task 3 (extract→transform→load, build_orders→build_report); observed 6:
        # build_orders→orders, raw_orders→build_orders, build_report→orders_daily,
        # orders→build_report, build_broken→orders_broken, orders→build_broken
        "lineage_edge": 9,
        "column_lineage": 0,
        "owner": 0,
        "tag": 14,  # two per run
        "api_token": 0,  # nobody signs in to replay a recording
        "audit_event": 0,
        "alert": 0,  # alerting state: no rules here
        "alert_lease": 0,
        "alert_outbox": 0,
        "alert_rule": 0,
        "lineage_event": 0,  # OpenLineage events as received: none from a pull adapter
        "lineage_run": 0,
    }
    assert store.read_cursor(source) == {"since": "2026-11-24T13:25:00+00:00"}
    # Writing the same recording again changes nothing.
    before = snapshot(store)
    for batch in adapter_batches()[1]:
        store.write_batch(source, batch)
    assert snapshot(store) == before


def test_stored_rows_keep_statuses_attempts_parents_and_event_links(store: Store) -> None:
    source = store.ensure_source("prefect", "prefect", base_url=API)
    for batch in adapter_batches()[1]:
        store.write_batch(source, batch)
    run, task, tr, ev = (t.table(x) for x in (t.Run, t.Task, t.TaskRun, t.AssetEvent))
    with store.engine.connect() as conn:
        failing = conn.execute(
            select(run.c.status, run.c.trigger, run.c.error, run.c.raw_status).where(
                run.c.external_id == str(one_run("tempox-failing").id)
            )
        ).one()
        assert tuple(failing) == ("failed", "manual", EXPLODE_ERROR, "Failed")
        flaky = conn.execute(
            select(tr.c.attempt, tr.c.status, tr.c.started_at, tr.c.ended_at)
            .join(task, task.c.id == tr.c.task_id)
            .where(task.c.external_id == "flaky")
            .order_by(tr.c.attempt)
        ).all()
        _, running, retrying, completed = flaky_states()
        assert [tuple(x) for x in flaky] == [
            (1, "failed", running.timestamp, retrying.timestamp),
            (2, "success", retrying.timestamp, completed.timestamp),
        ]
        parent_id = conn.execute(
            select(run.c.id).where(run.c.external_id == str(one_run("tempox-parent").id))
        ).scalar_one()
        children = conn.execute(
            select(run.c.external_id).where(run.c.parent_run_id == parent_id)
        ).scalars()
        assert sorted(children) == sorted(str(r.id) for r in runs_of("tempox-child"))
        linked = conn.execute(
            select(ev.c.kind, task.c.external_id)
            .join(tr, tr.c.id == ev.c.task_run_id)
            .join(task, task.c.id == tr.c.task_id)
            .order_by(ev.c.kind, task.c.external_id)
        ).all()
        assert [tuple(x) for x in linked] == [
            ("consumed", "build_broken"),
            ("consumed", "build_orders"),
            ("consumed", "build_report"),
            ("observed", "build_broken"),
            ("produced", "build_orders"),
            ("produced", "build_report"),
        ]
        asset = t.table(t.Asset)
        last = {u: v for u, v in conn.execute(select(asset.c.uri, asset.c.last_produced_at))}
        produced = {e.resource.id: e.occurred for e in events() if e.event == mapping.MATERIALIZED}
        assert {u: v for u, v in last.items() if v is not None} == produced
