"""Airflow API answers, recorded from a real Airflow 3.3.2, mapped into catalog records.

The JSON under ``tests/fixtures/airflow`` is what the server answered (see
``record_fixtures.py``); it is loaded into the generated client's models exactly as the adapter
receives them, so these tests need no server.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

import pytest
from airflow_client.client.models.asset_collection_response import AssetCollectionResponse
from airflow_client.client.models.asset_event_collection_response import (
    AssetEventCollectionResponse,
)
from airflow_client.client.models.asset_event_response import AssetEventResponse
from airflow_client.client.models.asset_response import AssetResponse
from airflow_client.client.models.dag_collection_response import DAGCollectionResponse
from airflow_client.client.models.dag_response import DAGResponse
from airflow_client.client.models.dag_run_collection_response import DAGRunCollectionResponse
from airflow_client.client.models.dag_run_response import DAGRunResponse
from airflow_client.client.models.import_error_collection_response import (
    ImportErrorCollectionResponse,
)
from airflow_client.client.models.import_error_response import ImportErrorResponse
from airflow_client.client.models.task_collection_response import TaskCollectionResponse
from airflow_client.client.models.task_instance_collection_response import (
    TaskInstanceCollectionResponse,
)
from airflow_client.client.models.task_instance_history_collection_response import (
    TaskInstanceHistoryCollectionResponse,
)
from airflow_client.client.models.task_instance_history_response import (
    TaskInstanceHistoryResponse,
)
from airflow_client.client.models.task_instance_response import TaskInstanceResponse
from airflow_client.client.models.task_instances_log_response import TaskInstancesLogResponse
from airflow_client.client.models.task_response import TaskResponse
from sqlalchemy import select

from adapters.airflow import mapping
from catalog.enums import AssetEventKind, EdgeOrigin, NodeKind, RunStatus, TriggerKind
from catalog.records import (
    AssetEventRecord,
    Batch,
    EdgeRecord,
    NodeRef,
    RunRecord,
    TaskRunRecord,
)
from catalog.store import tables as t
from catalog.store.store import Store
from tests.catalog.store.snapshot import counts

T = TypeVar("T")
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "airflow"
UI = "https://airflow.example.com"
LINKS = mapping.Links(UI + "/")

RAW_ORDERS = "s3://lake/raw/orders"
CLEAN_ORDERS = "s3://lake/staging/orders_clean"
TRANSFORM_ERROR = "ValueError: bad row 1: customer_id is null"
FLAKY_ERROR = "ConnectionResetError: connection reset by peer (try 1)"


def recorded(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def some(value: T | None) -> T:
    """A value the generated client types as optional (``from_dict``), known to be there."""
    assert value is not None
    return value


def uri(e: AssetEventResponse) -> str:
    return some(e.uri)


# -- the recording, as the client's models ------------------------------------------------------


def dags() -> list[DAGResponse]:
    return some(DAGCollectionResponse.from_dict(recorded("dags"))).dags


def task_list(dag_id: str) -> list[TaskResponse]:
    return some(TaskCollectionResponse.from_dict(recorded(f"tasks_{dag_id}"))).tasks


def dag_runs() -> list[DAGRunResponse]:
    return some(DAGRunCollectionResponse.from_dict(recorded("dag_runs"))).dag_runs


def task_instances() -> list[TaskInstanceResponse]:
    return some(TaskInstanceCollectionResponse.from_dict(recorded("task_instances"))).task_instances


def flaky_tries() -> list[TaskInstanceHistoryResponse]:
    found = some(
        TaskInstanceHistoryCollectionResponse.from_dict(recorded("tries_tempox_retries_flaky"))
    )
    return found.task_instances


def assets() -> list[AssetResponse]:
    return some(AssetCollectionResponse.from_dict(recorded("assets"))).assets


def asset_events() -> list[AssetEventResponse]:
    return some(AssetEventCollectionResponse.from_dict(recorded("asset_events"))).asset_events


def upstream_events() -> list[AssetEventResponse]:
    found = some(AssetEventCollectionResponse.from_dict(recorded("upstream_asset_events")))
    return found.asset_events


def runs_by_dag() -> dict[str, list[DAGRunResponse]]:
    out: dict[str, list[DAGRunResponse]] = {}
    for r in dag_runs():
        out.setdefault(r.dag_id, []).append(r)
    return out


def one_run(dag_id: str) -> DAGRunResponse:
    (found,) = runs_by_dag()[dag_id]
    return found


def instances(dag_id: str, task_id: str | None = None) -> list[TaskInstanceResponse]:
    return [
        ti
        for ti in task_instances()
        if ti.dag_id == dag_id and (task_id is None or ti.task_id == task_id)
    ]


def failed_tasks(r: DAGRunResponse) -> dict[str, str | None]:
    """What the adapter gathers for a failed run: its failed tasks (errors come from logs)."""
    return {
        ti.task_id: None
        for ti in task_instances()
        if (ti.dag_id, ti.dag_run_id) == (r.dag_id, r.dag_run_id)
        and ti.state is not None
        and ti.state.value == "failed"
    }


def run_done(ti: TaskInstanceResponse | TaskInstanceHistoryResponse) -> bool:
    r = next(r for r in dag_runs() if (r.dag_id, r.dag_run_id) == (ti.dag_id, ti.dag_run_id))
    return r.state is not None and r.state.value in ("success", "failed")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_the_recording_is_what_these_tests_expect() -> None:
    """A re-recording against a different set of runs should fail here first, not below."""
    assert sorted(d.dag_id for d in dags()) == [
        "tempox_consumer",
        "tempox_etl",
        "tempox_failing",
        "tempox_producer",
        "tempox_retries",
    ]
    assert {k: len(v) for k, v in runs_by_dag().items()} == {
        "tempox_etl": 2,
        "tempox_failing": 1,
        "tempox_retries": 1,
        "tempox_producer": 1,
        "tempox_consumer": 1,
    }
    listed = some(TaskInstanceCollectionResponse.from_dict(recorded("task_instances")))
    assert len(listed.task_instances) == listed.total_entries == 17  # one page held them all


# -- DAGs and tasks -----------------------------------------------------------------------------


def test_dags_become_pipelines() -> None:
    pipelines = {p.external_id: p for p in (mapping.pipeline(d, LINKS) for d in dags())}
    etl = pipelines["tempox_etl"]
    assert etl.name == "tempox_etl"
    assert etl.description == "Orders ETL that always succeeds"
    assert etl.owners == ("data-eng",)
    assert etl.tags == ("etl", "tempox")
    assert etl.schedule == "0 0 * * *"
    assert etl.paused is False
    assert etl.ui_url == f"{UI}/dags/tempox_etl"
    assert etl.metadata["relative_fileloc"] == "tempox_etl.py"
    assert etl.metadata["bundle_name"] == "dags-folder"
    assert etl.metadata["is_stale"] is False
    assert "bundle_version" not in etl.metadata  # null in the answer: left out
    assert pipelines["tempox_failing"].owners == ("analytics",)
    assert pipelines["tempox_failing"].schedule is None
    assert pipelines["tempox_consumer"].tags == ("assets", "tempox")


def test_a_schedule_is_active_while_its_dag_is_not_paused() -> None:
    pipelines = {p.external_id: p for p in (mapping.pipeline(d, LINKS) for d in dags())}
    assert (pipelines["tempox_etl"].schedule, pipelines["tempox_etl"].schedule_active) == (
        "0 0 * * *",
        True,
    )
    # Scheduled on an asset: the asset's updates start it while the DAG is not paused.
    consumer = pipelines["tempox_consumer"]
    assert (consumer.schedule, consumer.schedule_active) == ("Asset", True)
    failing = pipelines["tempox_failing"]
    assert (failing.schedule, failing.schedule_active, failing.paused) == (None, None, False)
    (etl,) = [d for d in dags() if d.dag_id == "tempox_etl"]
    paused = mapping.pipeline(etl.model_copy(update={"is_paused": True}), LINKS)  # edited
    assert (paused.schedule, paused.schedule_active, paused.paused) == ("0 0 * * *", False, True)


@pytest.mark.parametrize(
    ("dag_id", "upstream"),
    [
        ("tempox_etl", {"extract": (), "transform": ("extract",), "load": ("transform",)}),
        (
            "tempox_failing",
            {
                "extract": (),
                "transform": ("extract",),
                "audit": ("extract",),
                "load": ("transform",),
            },
        ),
    ],
)
def test_task_upstreams_are_inverted_from_downstream_lists(
    dag_id: str, upstream: dict[str, tuple[str, ...]]
) -> None:
    found = task_list(dag_id)
    records = mapping.tasks(dag_id, found, LINKS)
    assert {r.external_id: r.upstream for r in records} == upstream
    # And the other way round: each downstream id in the answer names its task as upstream.
    by_id = {r.external_id: r for r in records}
    for task in found:
        for down in task.downstream_task_ids or ():
            assert task.task_id in by_id[down].upstream
    assert all(r.pipeline_id == dag_id for r in records)


def test_task_fields() -> None:
    records = {
        r.external_id: r for r in mapping.tasks("tempox_etl", task_list("tempox_etl"), LINKS)
    }
    transform = records["transform"]
    assert transform.name == "transform"
    assert transform.kind == "_PythonDecoratedOperator"
    assert transform.ui_url == f"{UI}/dags/tempox_etl/tasks/transform"
    assert transform.metadata["is_mapped"] is True
    assert transform.metadata["operator_name"] == "@task"
    assert transform.metadata["module"] == "airflow.providers.standard.decorators.python"
    assert transform.metadata["owner"] == "data-eng"
    assert transform.metadata["retries"] == 0
    assert isinstance(transform.metadata["retries"], int)
    assert "depends_on_past" not in transform.metadata  # False: left out
    assert records["extract"].metadata["is_mapped"] is False


# -- dag runs -----------------------------------------------------------------------------------


def test_run_identities_statuses_and_triggers() -> None:
    records = {r.external_id: r for r in (mapping.run(x, LINKS) for x in dag_runs())}
    expected = {(x.dag_id, x.dag_run_id): (x.state.value if x.state else None) for x in dag_runs()}
    assert set(records) == {f"{d}/{r}" for d, r in expected}
    for (dag_id, run_id), state in expected.items():
        record = records[f"{dag_id}/{run_id}"]
        assert record.pipeline_id == dag_id
        assert record.raw_status == state
        assert record.metadata["dag_run_id"] == run_id
    statuses = {(r.pipeline_id, r.status, r.trigger) for r in records.values()}
    assert statuses == {
        ("tempox_etl", RunStatus.SUCCESS, TriggerKind.SCHEDULED),
        ("tempox_etl", RunStatus.SUCCESS, TriggerKind.MANUAL),
        ("tempox_failing", RunStatus.FAILED, TriggerKind.MANUAL),
        ("tempox_retries", RunStatus.SUCCESS, TriggerKind.MANUAL),
        ("tempox_producer", RunStatus.SUCCESS, TriggerKind.MANUAL),
        ("tempox_consumer", RunStatus.SUCCESS, TriggerKind.EVENT),
    }


def test_run_times_and_metadata() -> None:
    raw = next(r for r in recorded("dag_runs")["dag_runs"] if r["dag_id"] == "tempox_failing")
    record = mapping.run(one_run("tempox_failing"), LINKS)
    assert record.logical_date == at(raw["logical_date"])
    assert record.queued_at == at(raw["queued_at"])
    assert record.started_at == at(raw["start_date"])
    assert record.ended_at == at(raw["end_date"])
    assert record.started_at is not None
    assert record.started_at.tzinfo is not None
    assert record.duration_s == raw["duration"]
    assert record.metadata["run_type"] == "manual"
    assert record.metadata["triggered_by"] == "rest_api"
    assert record.metadata["triggering_user"] == "admin"
    assert record.metadata["dag_versions"] == [1]
    assert "conf" not in record.metadata  # {} in the answer
    assert "triggering_asset_events" not in record.metadata
    # The metadata is stored as JSON: it must serialise.
    json.dumps(dict(record.metadata))

    consumer = mapping.run(one_run("tempox_consumer"), LINKS)
    assert consumer.logical_date is None  # asset-triggered runs have none
    assert consumer.metadata["triggered_by"] == "asset"


def test_a_failed_run_names_its_failed_task() -> None:
    r = one_run("tempox_failing")
    failed = failed_tasks(r)
    assert failed == {"transform": None}  # load is upstream_failed, not failed
    assert mapping.run(r, LINKS, failed_tasks=failed).error == "task transform failed"
    with_error = {"transform": TRANSFORM_ERROR}
    assert mapping.run(r, LINKS, failed_tasks=with_error).error == f"transform: {TRANSFORM_ERROR}"
    assert mapping.run(r, LINKS).error is None  # nothing known about its tasks


def test_a_successful_run_has_no_error() -> None:
    r = one_run("tempox_retries")
    assert mapping.run(r, LINKS, failed_tasks={"flaky": FLAKY_ERROR}).error is None


def test_run_errors_for_several_failed_tasks() -> None:
    assert mapping.run_error({"b": None, "a": "KeyError: 'x'", "c": None}) == (
        "a: KeyError: 'x' (and 2 more failed: b, c)"
    )
    assert mapping.run_error({"b": "boom", "a": None}) == "a (and 1 more failed: b)"
    assert mapping.run_error({}) is None
    assert mapping.run_error(None) is None


def test_the_error_of_a_failed_try_is_read_from_its_recorded_log() -> None:
    log = recorded("log_tempox_failing_transform_1")
    some(TaskInstancesLogResponse.from_dict(log))  # the documented shape, as the client reads it
    assert mapping.failure_message(log) == TRANSFORM_ERROR
    assert mapping.failure_message(recorded("log_tempox_retries_flaky_1")) == FLAKY_ERROR


def test_an_exception_raised_while_handling_another_is_the_error() -> None:
    # transform caught a KeyError and raised a ValueError: the log chains both, raised first.
    log = recorded("log_tempox_failing_transform_chained")
    [detail] = [e["error_detail"] for e in log["content"] if "error_detail" in e]
    assert [d["exc_type"] for d in detail] == ["ValueError", "KeyError"]
    assert mapping.failure_message(log) == TRANSFORM_ERROR


def test_logs_without_an_error_detail() -> None:
    log = recorded("log_tempox_failing_transform_1")
    without = [e for e in log["content"] if not (isinstance(e, dict) and "error_detail" in e)]
    assert len(without) == len(log["content"]) - 1
    assert mapping.failure_message({"content": without}) is None
    assert mapping.failure_message({"content": ["an unstructured line"]}) is None
    assert mapping.failure_message({}) is None


# -- task instances and tries -------------------------------------------------------------------


def test_every_task_instance_becomes_one_task_run() -> None:
    tis = task_instances()
    records = [mapping.task_run(ti, run_done(ti), LINKS) for ti in tis]
    keys = {(r.run_id, r.task_id, r.attempt, r.map_index) for r in records}
    assert len(keys) == len(tis) == 17
    assert {r.run_id for r in records} == {f"{r.dag_id}/{r.dag_run_id}" for r in dag_runs()}
    for ti, record in zip(tis, records, strict=True):
        assert record.run_id == f"{ti.dag_id}/{ti.dag_run_id}"
        assert record.metadata["task_instance_id"] == str(ti.id)
        assert record.metadata["try_number"] == ti.try_number
        assert record.started_at == ti.start_date
        assert record.duration_s == ti.duration


def test_task_run_statuses() -> None:
    records = {
        (r.run_id.split("/")[0], r.task_id): r
        for r in (mapping.task_run(ti, True, LINKS) for ti in instances("tempox_failing"))
    }
    assert {k[1]: (r.status, r.raw_status) for k, r in records.items()} == {
        "extract": (RunStatus.SUCCESS, "success"),
        "transform": (RunStatus.FAILED, "failed"),
        "load": (RunStatus.UPSTREAM_FAILED, "upstream_failed"),
        "audit": (RunStatus.SUCCESS, "success"),
    }


def test_an_upstream_failed_task_never_tried_is_attempt_one() -> None:
    (load,) = instances("tempox_failing", "load")
    assert load.try_number == 0
    record = mapping.task_run(load, run_done(load), LINKS)
    assert record.attempt == 1
    assert record.status is RunStatus.UPSTREAM_FAILED
    assert record.metadata["try_number"] == 0
    # Airflow stamps start and end on the instance as it gives up on it: kept as they are.
    assert (record.started_at, record.ended_at) == (load.start_date, load.end_date)
    assert record.log_url is not None
    assert record.log_url.endswith("?try_number=1")


def test_mapped_task_instances_keep_their_map_index() -> None:
    mapped = instances("tempox_etl", "transform")
    records = [mapping.task_run(ti, run_done(ti), LINKS) for ti in mapped]
    assert sorted((r.run_id, r.map_index) for r in records) == sorted(
        (f"tempox_etl/{r.dag_run_id}", i) for r in runs_by_dag()["tempox_etl"] for i in (0, 1, 2)
    )
    for r in records:
        assert r.attempt == 1
        assert r.status is RunStatus.SUCCESS
        assert r.metadata["rendered_map_index"] == str(r.map_index)
        assert r.log_url is not None
        assert f"/tasks/transform/mapped/{r.map_index}?try_number=1" in r.log_url
    (extract, _) = [mapping.task_run(ti, True, LINKS) for ti in instances("tempox_etl", "extract")]
    assert extract.map_index == -1
    assert extract.log_url is not None
    assert "/mapped/" not in extract.log_url


def test_the_tries_of_a_flaky_task() -> None:
    tries = flaky_tries()
    records = [mapping.task_run(t, True, LINKS) for t in tries]
    assert [(r.attempt, r.status) for r in records] == [
        (1, RunStatus.FAILED),
        (2, RunStatus.SUCCESS),
    ]
    first, second = records
    assert first.ended_at is not None
    assert second.started_at is not None
    assert first.ended_at < second.started_at
    assert first.log_url is not None
    assert first.log_url.endswith("/tasks/flaky?try_number=1")
    assert second.log_url is not None
    assert second.log_url.endswith("/tasks/flaky?try_number=2")
    assert "task_instance_id" not in first.metadata  # history rows have no id of their own
    assert first.metadata["max_tries"] == 2
    with_error = mapping.task_run(tries[0], True, LINKS, FLAKY_ERROR)
    assert with_error.error == FLAKY_ERROR


def test_history_and_current_instance_together_give_each_try_once() -> None:
    """As the adapter does: the history without the current try, then the instance itself."""
    (current,) = instances("tempox_retries", "flaky")
    assert current.try_number == 2
    history = [t for t in flaky_tries() if t.try_number != current.try_number]
    tries: list[mapping.AnyTaskInstance] = [*history, current]
    records = [mapping.task_run(t, True, LINKS) for t in tries]
    assert [(r.attempt, r.status) for r in records] == [
        (1, RunStatus.FAILED),
        (2, RunStatus.SUCCESS),
    ]
    assert records[1].metadata["task_instance_id"] == str(current.id)


# -- deep links ---------------------------------------------------------------------------------


def test_run_links_are_url_encoded() -> None:
    for r in dag_runs():
        url = mapping.run(r, LINKS).ui_url
        assert url is not None
        path = urlsplit(url).path
        assert path == f"/dags/{r.dag_id}/runs/{path.rsplit('/', 1)[1]}"
        last = path.rsplit("/", 1)[1]
        assert unquote(last) == r.dag_run_id
        assert not set(last) & set(":+/ ")
    etl = next(r for r in dag_runs() if r.dag_run_id.startswith("manual__"))
    assert mapping.run(etl, LINKS).ui_url == (
        f"{UI}/dags/{etl.dag_id}/runs/" + etl.dag_run_id.replace(":", "%3A").replace("+", "%2B")
    )


def test_task_instance_links_are_url_encoded() -> None:
    (load,) = instances("tempox_failing", "load")
    record = mapping.task_run(load, True, LINKS)
    run_id = load.dag_run_id.replace(":", "%3A").replace("+", "%2B")
    assert record.log_url == (f"{UI}/dags/tempox_failing/runs/{run_id}/tasks/load?try_number=1")


def test_links_escape_every_reserved_character() -> None:
    links = mapping.Links("https://airflow.example.com/ui/")
    assert links.dag("a b/c") == "https://airflow.example.com/ui/dags/a%20b%2Fc"
    assert links.task("d", "group.task?x") == (
        "https://airflow.example.com/ui/dags/d/tasks/group.task%3Fx"
    )
    assert links.run("d", "manual__2026#1&x=y") == (
        "https://airflow.example.com/ui/dags/d/runs/manual__2026%231%26x%3Dy"
    )
    assert links.task_instance("d", "r/1", "t", 3, 0) == (
        "https://airflow.example.com/ui/dags/d/runs/r%2F1/tasks/t/mapped/3?try_number=1"
    )


# -- assets -------------------------------------------------------------------------------------


def test_assets() -> None:
    records = {a.uri: a for a in map(mapping.asset, assets())}
    assert set(records) == {RAW_ORDERS, CLEAN_ORDERS}
    raw = records[RAW_ORDERS]
    assert raw.alias is None  # its name is its URI
    assert raw.metadata == {"airflow": {"asset_id": 1, "name": RAW_ORDERS, "group": "asset"}}


def test_assets_without_owners_in_their_extra_have_none() -> None:
    assert [mapping.asset(a).owners for a in assets()] == [(), ()]  # recorded with extra {}


@pytest.mark.parametrize(
    ("extra", "owners"),
    [
        ({"owner": "alice"}, ("alice",)),
        ({"owner": "alice, team:ingest"}, ("alice", "team:ingest")),  # as DAG owners are written
        ({"owners": ["alice", "bob"]}, ("alice", "bob")),
        ({"owner": "alice", "owners": ["bob", "alice"]}, ("alice", "bob")),
        ({"owners": ["alice", 3, None, " "], "row_count": 3}, ("alice",)),
        ({"owners": {"name": "alice"}}, ()),  # neither a name nor a list of names
        ({"owner": 7}, ()),
        ({"maintainer": "alice"}, ()),
        (None, ()),
    ],
)
def test_asset_owners_from_extra(extra: dict[str, Any] | None, owners: tuple[str, ...]) -> None:
    assert mapping.asset_owners(extra) == owners
    (raw,) = [a for a in assets() if a.uri == RAW_ORDERS]
    record = mapping.asset(raw.model_copy(update={"extra": extra}))  # edited: recorded {}
    assert record.owners == owners
    assert record.metadata["airflow"].get("extra") == (extra or None)


def test_declared_asset_edges() -> None:
    edges = {(e.upstream, e.downstream, e.origin) for a in assets() for e in mapping.asset_edges(a)}
    producer = NodeRef.of_task("tempox_producer", "write_orders")
    consumer = NodeRef.of_task("tempox_consumer", "clean_orders")
    declared = EdgeOrigin.DECLARED
    assert edges == {
        (producer, NodeRef.asset(RAW_ORDERS), declared),  # an outlet writes it
        (NodeRef.asset(RAW_ORDERS), consumer, declared),  # an inlet reads it
        (NodeRef.asset(RAW_ORDERS), NodeRef.pipeline("tempox_consumer"), declared),  # schedule
        (consumer, NodeRef.asset(CLEAN_ORDERS), declared),
    }
    (raw,) = [a for a in assets() if a.uri == RAW_ORDERS]
    (scheduled,) = [e for e in mapping.asset_edges(raw) if e.downstream.kind is NodeKind.PIPELINE]
    assert scheduled.seen_at == raw.scheduled_dags[0].updated_at


def test_produced_asset_events_link_their_run_and_task() -> None:
    events = {e.id: e for e in asset_events()}
    record = mapping.produced(events[1], RAW_ORDERS, known_run=True)
    producer_run = one_run("tempox_producer")
    assert record.kind is AssetEventKind.PRODUCED
    assert record.asset_uri == RAW_ORDERS
    assert record.run_id == f"tempox_producer/{producer_run.dag_run_id}"
    assert record.task_id == "write_orders"
    assert record.at == events[1].timestamp
    assert record.external_id == "airflow-event:1"
    assert record.row_count is None
    assert "source_map_index" not in record.metadata  # -1: not a mapped task
    assert record.metadata["source_dag_id"] == "tempox_producer"
    clean = mapping.produced(events[2], CLEAN_ORDERS, known_run=True)
    assert clean.run_id == f"tempox_consumer/{one_run('tempox_consumer').dag_run_id}"
    assert clean.task_id == "clean_orders"


def test_an_event_of_a_deleted_run_links_nothing_but_remembers_its_source() -> None:
    (event, _) = asset_events()
    record = mapping.produced(event, RAW_ORDERS, known_run=False)
    assert (record.run_id, record.task_id) == (None, None)
    assert record.metadata["source_run_id"] == event.source_run_id


def test_row_counts_from_the_extra_of_an_event() -> None:
    (event, _) = asset_events()
    for extra, rows in (({"row_count": 42}, 42), ({"rows": 7}, 7), ({"rows": True}, None)):
        changed = event.model_copy(update={"extra": extra})
        assert mapping.produced(changed, RAW_ORDERS, known_run=True).row_count == rows


def test_observed_edges_from_produced_events() -> None:
    edges = [mapping.observed_edge(e, uri(e)) for e in asset_events()]
    assert edges == [
        EdgeRecord(
            NodeRef.of_task("tempox_producer", "write_orders"),
            NodeRef.asset(RAW_ORDERS),
            EdgeOrigin.OBSERVED,
            asset_events()[0].timestamp,
        ),
        EdgeRecord(
            NodeRef.of_task("tempox_consumer", "clean_orders"),
            NodeRef.asset(CLEAN_ORDERS),
            EdgeOrigin.OBSERVED,
            asset_events()[1].timestamp,
        ),
    ]


def test_events_consumed_by_the_runs_they_triggered() -> None:
    consumer_run = one_run("tempox_consumer")
    triggered = [
        (e, ref) for e in asset_events() for ref in mapping.triggered_runs(e)
    ]  # from the events' side
    assert [(e.id, ref.dag_id, ref.run_id) for e, ref in triggered] == [
        (1, "tempox_consumer", consumer_run.dag_run_id)
    ]
    # From the run's side: its upstream events are the same one.
    assert [e.id for e in upstream_events()] == [1]
    (event,) = upstream_events()
    record = mapping.consumed(event, uri(event), consumer_run.dag_id, consumer_run.dag_run_id)
    assert record.kind is AssetEventKind.CONSUMED
    assert record.asset_uri == RAW_ORDERS
    assert record.run_id == f"tempox_consumer/{consumer_run.dag_run_id}"
    assert record.task_id is None
    assert record.at == event.timestamp
    assert (
        record.external_id == f"airflow-event:1:triggered:tempox_consumer/{consumer_run.dag_run_id}"
    )
    run = mapping.run(consumer_run, LINKS, triggering_events=[event.id, event.id])
    assert run.metadata["triggering_asset_events"] == [1]


# -- import errors ------------------------------------------------------------------------------

STACK_TRACE = """Traceback (most recent call last):
  File "<frozen importlib._bootstrap>", line 241, in _call_with_frames_removed
  File "/opt/airflow/dags/orders_v2.py", line 5, in <module>
    from pandas_gbq import read_gbq
ModuleNotFoundError: No module named 'pandas_gbq'

"""


def test_import_error_notice_is_the_last_line_of_the_stack_trace() -> None:
    error = some(
        ImportErrorResponse.from_dict(
            {
                "import_error_id": 3,
                "timestamp": "2026-11-24T12:40:00.123456Z",
                "filename": "orders_v2.py",
                "bundle_name": "dags-folder",
                "stack_trace": STACK_TRACE,
            }
        )
    )
    assert mapping.import_error_notice(error) == (
        "import error in orders_v2.py: ModuleNotFoundError: No module named 'pandas_gbq'"
    )
    blank = error.model_copy(update={"stack_trace": "  \n"})
    assert mapping.import_error_notice(blank) == "import error in orders_v2.py: unknown error"


def test_the_recorded_server_had_no_import_errors() -> None:
    found = some(ImportErrorCollectionResponse.from_dict(recorded("import_errors")))
    assert [mapping.import_error_notice(e) for e in found.import_errors] == []


# -- the whole recording, written to a real store ------------------------------------------------


def recording_batch() -> Batch:
    """The recording as the adapter's first sync would yield it, in one batch."""
    errors = {"transform": TRANSFORM_ERROR}
    runs: list[RunRecord] = []
    consumed: list[AssetEventRecord] = []
    for r in dag_runs():
        triggering = []
        if r.run_type is not None and r.run_type.value == "asset_triggered":
            for e in upstream_events():
                consumed.append(mapping.consumed(e, uri(e), r.dag_id, r.dag_run_id))
                triggering.append(e.id)
        failed = {k: errors.get(k) for k in failed_tasks(r)} or None
        runs.append(mapping.run(r, LINKS, failed_tasks=failed, triggering_events=triggering))
    task_runs: list[TaskRunRecord] = []
    for ti in task_instances():
        tries: list[Any] = [ti]
        if (ti.dag_id, ti.task_id) == ("tempox_retries", "flaky"):
            tries = [t for t in flaky_tries() if t.try_number != ti.try_number] + [ti]
        task_runs += [mapping.task_run(x, run_done(x), LINKS) for x in tries]
    found_assets = assets()
    produced = [mapping.produced(e, uri(e), known_run=True) for e in asset_events()]
    observed = [mapping.observed_edge(e, uri(e)) for e in asset_events()]
    return Batch(
        cursor={"since": "2026-11-24T12:58:00+00:00", "unfinished": []},
        pipelines=tuple(mapping.pipeline(d, LINKS) for d in dags()),
        tasks=tuple(
            mapping.tasks("tempox_etl", task_list("tempox_etl"), LINKS)
            + mapping.tasks("tempox_failing", task_list("tempox_failing"), LINKS)
        ),
        runs=tuple(runs),
        task_runs=tuple(task_runs),
        assets=tuple(map(mapping.asset, found_assets)),
        asset_events=tuple(produced + consumed),
        edges=tuple(
            [e for a in found_assets for e in mapping.asset_edges(a)]
            + [e for e in observed if e is not None]
        ),
        notices=(),
    )


def test_the_whole_recording_is_written_to_the_store(store: Store) -> None:
    source = store.ensure_source("airflow", "airflow", base_url=UI)
    batch = recording_batch()
    store.write_batch(source, batch)
    written = counts(store)
    assert {k: v for k, v in written.items() if k != "meta"} == {
        "source": 1,
        "pipeline": 5,
        # 3 + 4 declared; the others named by their runs: flaky, write_orders, clean_orders
        "task": 10,
        "run": 6,
        "task_run": 18,  # 17 task instances and the first try of flaky
        "asset": 2,
        "asset_alias": 0,
        "asset_link": 0,
        "asset_event": 3,  # 2 produced, 1 consumed
        "check_result": 0,
        # task→task: 2 (etl) + 3 (failing); declared asset edges 4; observed 2
        "lineage_edge": 11,
        "column_lineage": 0,
        "owner": 5,
        "tag": 8,
        "api_token": 0,  # nobody signs in to replay a recording
        "audit_event": 0,
        "alert": 0,  # alerting state: no rules here
        "alert_lease": 0,
        "alert_outbox": 0,
        "alert_rule": 0,
        "lineage_event": 0,  # OpenLineage events as received: none from a pull adapter
        "lineage_run": 0,
    }
    assert store.read_cursor(source) == batch.cursor
    # Writing the same recording again changes nothing.
    store.write_batch(source, batch)
    assert counts(store) == written


def test_stored_rows_keep_statuses_links_and_event_links(store: Store) -> None:
    source = store.ensure_source("airflow", "airflow", base_url=UI)
    store.write_batch(source, recording_batch())
    failing = one_run("tempox_failing")
    with store.engine.connect() as conn:
        run = conn.execute(
            select(t.table(t.Run)).where(
                t.table(t.Run).c.external_id == f"tempox_failing/{failing.dag_run_id}"
            )
        ).one()
        assert (run.status, run.trigger, run.error) == (
            "failed",
            "manual",
            f"transform: {TRANSFORM_ERROR}",
        )
        tr = t.table(t.TaskRun)
        task = t.table(t.Task)
        flaky = conn.execute(
            select(tr.c.attempt, tr.c.status)
            .join(task, task.c.id == tr.c.task_id)
            .where(task.c.external_id == "flaky")
            .order_by(tr.c.attempt)
        ).all()
        assert [tuple(x) for x in flaky] == [(1, "failed"), (2, "success")]
        mapped = conn.execute(
            select(tr.c.map_index)
            .join(task, task.c.id == tr.c.task_id)
            .where(task.c.external_id == "transform", tr.c.map_index >= 0)
        ).scalars()
        assert sorted(mapped) == [0, 0, 1, 1, 2, 2]
        ev = t.table(t.AssetEvent)
        events = conn.execute(
            select(ev.c.kind, ev.c.run_id, ev.c.task_run_id, ev.c.event_key).order_by(ev.c.id)
        ).all()
        by_key = {e.event_key: e for e in events}
        produced = by_key["airflow-event:1"]
        assert produced.kind == "produced"
        assert produced.run_id is not None
        assert produced.task_run_id is not None  # linked to write_orders' task run
        linked = conn.execute(
            select(task.c.external_id)
            .join(tr, tr.c.task_id == task.c.id)
            .where(tr.c.id == produced.task_run_id)
        ).scalar_one()
        assert linked == "write_orders"
        (consumed,) = [e for e in events if e.kind == "consumed"]
        consumer_run = conn.execute(
            select(t.table(t.Run).c.external_id).where(t.table(t.Run).c.id == consumed.run_id)
        ).scalar_one()
        assert consumer_run == f"tempox_consumer/{one_run('tempox_consumer').dag_run_id}"
        asset = t.table(t.Asset)
        last = conn.execute(
            select(asset.c.last_produced_at).where(asset.c.uri == RAW_ORDERS)
        ).scalar_one()
        assert last == asset_events()[0].timestamp.astimezone(UTC)
