"""Dagster GraphQL answers, recorded from a real dagster-webserver 1.13.27, mapped into records.

The JSON under ``tests/fixtures/dagster`` is the ``data`` of the adapter's own queries as the
server answered them (see ``record_fixtures.py``): one run materialising every asset, a failed
fx_job run, a retry_job run whose ``flaky`` step failed once and succeeded on its retry, and a
run-less materialisation of ``lake/raw/orders``. Where a test needs a case the recording does not
hold, it copies a recorded answer and edits one field, saying so.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.dagster import DagsterAdapter, DagsterConfig, mapping, queries
from adapters.dagster.keys import AssetKeys, AssetRule
from adapters.dagster.session import DagsterSession
from catalog.enums import AssetEventKind, EdgeOrigin, RunStatus, TriggerKind
from catalog.errors import AdapterError
from catalog.records import Batch, EdgeRecord, NodeRef

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "dagster"
URL = "http://dagster.example.com:3000"
HOST = "dagster://dagster.example.com:3000"
LINKS = mapping.Links(URL)
KEYS = AssetKeys((), URL)

RAW_ORDERS = f"{HOST}/lake/raw/orders"
ORDERS = f"{HOST}/warehouse/orders"
REVENUE = f"{HOST}/warehouse/daily_revenue"
CONVERT_ERROR = "ValueError: no rate for GBP in ['EUR']"
FLAKY_ERROR = "ConnectionError: the rates API dropped the connection"


def recorded(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def workspace() -> dict[str, Any]:
    found: dict[str, Any] = recorded("workspace")["workspaceOrError"]
    return found


def nodes() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = recorded("asset_nodes")["assetNodes"]
    return found


def node(*path: str) -> dict[str, Any]:
    (found,) = [n for n in nodes() if n["assetKey"]["path"] == list(path)]
    return found


def runs() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = recorded("runs")["runsOrError"]["results"]
    return found


def run_of(job: str) -> dict[str, Any]:
    (found,) = [r for r in runs() if r["jobName"] == job]
    return found


def events(name: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = recorded(name)["logsForRun"]["events"]
    return found


def failed_why() -> mapping.Failure:
    return mapping.failure(events("run_logs_failed"))


def retry_why() -> mapping.Failure:
    return mapping.failure(events("run_logs_retry_job"))


def snapshot(job: str) -> dict[str, Any]:
    found: dict[str, Any] = recorded(f"job_snapshot_{job}")["pipelineSnapshotOrError"]
    return found


def materializations() -> Iterator[tuple[list[str], dict[str, Any]]]:
    for answer in recorded("materializations").values():
        for m in answer["assetMaterializations"]:
            yield answer["key"]["path"], m


def materialization_of(*path: str) -> dict[str, Any]:
    (found,) = [m for p, m in materializations() if p == list(path)]
    return found


def checks() -> list[tuple[list[str], str]]:
    """The checks in the order the adapter asks for them: ``a0``, ``a1`` … of the answer."""
    return [
        (n["assetKey"]["path"], c["name"])
        for n in nodes()
        for c in (n.get("assetChecksOrError") or {}).get("checks") or ()
    ]


def execution_of(check: str) -> tuple[list[str], dict[str, Any]]:
    answer = recorded("check_executions")
    ((path, found),) = [
        (p, e) for i, (p, name) in enumerate(checks()) if name == check for e in answer[f"a{i}"]
    ]
    return path, found


def at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def test_the_recording_is_what_these_tests_expect() -> None:
    """A re-recording against a different estate should fail here first, not below."""
    (entry,) = workspace()["locationEntries"]
    assert (entry["name"], entry["loadStatus"]) == ("estate", "LOADED")
    (repo,) = entry["locationOrLoadError"]["repositories"]
    assert [j["name"] for j in repo["jobs"]] == [
        "__ASSET_JOB",
        "fx_job",
        "retry_job",
        "warehouse_job",
    ]
    assert sorted(n["assetKey"]["path"][-1] for n in nodes()) == [
        "daily_revenue",
        "orders",
        "orders",
    ]
    assert sorted((r["jobName"], r["status"]) for r in runs()) == [
        ("__ASSET_JOB", "SUCCESS"),
        ("fx_job", "FAILURE"),
        ("retry_job", "SUCCESS"),
    ]
    assert [(p, len(m["metadataEntries"])) for p, m in materializations()] == [
        (["lake", "raw", "orders"], 1),
        (["warehouse", "daily_revenue"], 2),
        (["warehouse", "orders"], 2),
    ]
    assert checks() == [
        (["warehouse", "daily_revenue"], "revenue_is_positive"),
        (["warehouse", "orders"], "orders_have_ids"),
    ]


# -- pipelines ------------------------------------------------------------------------------------


def pipelines() -> dict[str, Any]:
    found, notices = mapping.pipelines(workspace(), LINKS)
    assert notices == []
    return {p.external_id: p for p in found}


def test_every_job_is_a_pipeline() -> None:
    assert sorted(pipelines()) == ["__ASSET_JOB", "fx_job", "retry_job", "warehouse_job"]


def test_a_job_on_a_running_schedule() -> None:
    p = pipelines()["warehouse_job"]
    assert p.name == "warehouse_job"
    assert p.description == "Rebuild the warehouse"
    assert p.schedule == "0 5 * * *"
    assert p.schedule_active is True
    assert p.paused is False
    assert p.tags == ("team=analytics",)
    assert p.owners == ("team:analytics",)  # its `team` tag, spelled as Dagster's team owners
    assert p.ui_url == f"{URL}/locations/__repository__@estate/jobs/warehouse_job"
    assert p.metadata == {
        "code_location": "estate",
        "repository": "__repository__",
        "asset_job": True,
        "tags": {"team": "analytics"},
        "schedules": [
            {
                "name": "warehouse_daily",
                "cron": "0 5 * * *",
                "timezone": "Europe/Berlin",
                "running": True,
            }
        ],
    }


def test_a_job_with_only_a_stopped_sensor_is_paused() -> None:
    p = pipelines()["fx_job"]
    assert p.paused is True
    assert (p.schedule, p.schedule_active) == (None, None)  # a sensor is no schedule
    assert p.tags == ("team=finance",)
    assert p.metadata["sensors"] == [{"name": "rates_landed", "running": False}]
    assert p.metadata["asset_job"] is False
    assert "schedules" not in p.metadata


@pytest.mark.parametrize("job", ["__ASSET_JOB", "retry_job"])
def test_a_job_without_schedules_or_sensors_has_nothing_to_pause(job: str) -> None:
    p = pipelines()[job]
    assert p.paused is None
    assert (p.schedule, p.schedule_active) == (None, None)
    assert p.owners == ()  # untagged
    assert "schedules" not in p.metadata
    assert "sensors" not in p.metadata


def test_a_stopped_schedule_pauses_its_job_but_still_names_its_cron() -> None:
    answer = workspace()
    repo = answer["locationEntries"][0]["locationOrLoadError"]["repositories"][0]
    repo["schedules"][0]["scheduleState"]["status"] = "STOPPED"  # edited: recorded RUNNING
    (p,) = [x for x in mapping.pipelines(answer, LINKS)[0] if x.external_id == "warehouse_job"]
    assert p.paused is True
    assert p.schedule == "0 5 * * *"
    assert p.schedule_active is False  # shown, but it makes no runs


def test_a_running_schedule_is_shown_before_a_stopped_one() -> None:
    answer = workspace()
    repo = answer["locationEntries"][0]["locationOrLoadError"]["repositories"][0]
    running = repo["schedules"][0]
    # Edited: a second, stopped schedule of the same job, listed first.
    stopped = copy.deepcopy(running) | {"name": "warehouse_hourly", "cronSchedule": "0 * * * *"}
    stopped["scheduleState"] = {"status": "STOPPED"}
    repo["schedules"].insert(0, stopped)
    (p,) = [x for x in mapping.pipelines(answer, LINKS)[0] if x.external_id == "warehouse_job"]
    assert (p.schedule, p.schedule_active, p.paused) == ("0 5 * * *", True, False)
    assert [s["running"] for s in p.metadata["schedules"]] == [False, True]


def test_job_owners_from_the_configured_tags_in_their_order() -> None:
    answer = workspace()
    repo = answer["locationEntries"][0]["locationOrLoadError"]["repositories"][0]
    (job,) = [j for j in repo["jobs"] if j["name"] == "retry_job"]
    # Edited: recorded untagged.
    job["tags"] = [
        {"key": "dagster/owner", "value": "team:platform"},
        {"key": "owner", "value": " bob@example.com "},
        {"key": "team", "value": "finance"},
        {"key": "on_call", "value": "carol@example.com"},
    ]
    found = {p.external_id: p for p in mapping.pipelines(answer, LINKS)[0]}
    assert found["retry_job"].owners == ("team:finance", "bob@example.com", "team:platform")
    only = {p.external_id: p for p in mapping.pipelines(answer, LINKS, ("on_call", "owner"))[0]}
    assert only["retry_job"].owners == ("carol@example.com", "bob@example.com")
    assert only["fx_job"].owners == ()  # its `team` tag is not among the keys


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ({"team": "finance"}, ("team:finance",)),
        ({"team": "team:finance"}, ("team:finance",)),  # already spelled as an owner
        ({"dagster/team": "ops"}, ()),  # not a configured key
        ({"owner": "", "team": "  "}, ()),
        ({"owner": "team:finance", "team": "finance"}, ("team:finance",)),  # once
    ],
)
def test_owners_of_tags(tags: dict[str, str], expected: tuple[str, ...]) -> None:
    assert mapping.owners_of(tags) == expected


def test_a_run_is_owned_as_its_tags_say() -> None:
    assert mapping.run(run_of("fx_job"), LINKS, failed_why()).owners == ("team:finance",)
    assert mapping.run(run_of("retry_job"), LINKS, retry_why()).owners == ()
    assert mapping.run(run_of("fx_job"), LINKS, failed_why(), ("owner",)).owners == ()


def test_a_running_sensor_unpauses_its_job() -> None:
    answer = workspace()
    repo = answer["locationEntries"][0]["locationOrLoadError"]["repositories"][0]
    repo["sensors"][0]["sensorState"]["status"] = "RUNNING"  # edited: recorded STOPPED
    (p,) = [x for x in mapping.pipelines(answer, LINKS)[0] if x.external_id == "fx_job"]
    assert p.paused is False


def test_a_location_that_failed_to_load_is_a_notice() -> None:
    answer = workspace()
    entry = answer["locationEntries"][0]
    # Edited: the recorded location loaded; a failed one answers a PythonError in its place.
    entry["loadStatus"] = "LOADED"
    entry["locationOrLoadError"] = {
        "__typename": "PythonError",
        "message": "ModuleNotFoundError: No module named 'estate'\n\n  File ...",
    }
    found, notices = mapping.pipelines(answer, LINKS)
    assert found == []
    assert notices == [
        "code location 'estate' failed to load: ModuleNotFoundError: No module named 'estate'"
    ]
    entry["locationOrLoadError"]["message"] = ""  # edited further: no message at all
    assert mapping.pipelines(answer, LINKS)[1] == [
        "code location 'estate' failed to load: no message"
    ]


def test_tasks_from_job_snapshots() -> None:
    fx = {t.external_id: t for t in mapping.tasks("fx_job", snapshot("fx_job"))}
    assert sorted(fx) == ["convert", "fetch_rates", "publish"]
    assert fx["fetch_rates"].upstream == ()
    assert fx["convert"].upstream == ("fetch_rates",)
    assert fx["publish"].upstream == ("convert",)
    assert {t.pipeline_id for t in fx.values()} == {"fx_job"}
    assert fx["convert"].kind == "convert"
    assets = {t.external_id: t for t in mapping.tasks("__ASSET_JOB", snapshot("__ASSET_JOB"))}
    assert assets["warehouse__daily_revenue"].upstream == ("warehouse__orders",)
    assert assets["warehouse__orders"].upstream == ()  # its input from lake/raw/orders is no op
    assert assets["warehouse__orders_orders_have_ids"].upstream == ("warehouse__orders",)


# -- runs -----------------------------------------------------------------------------------------


def test_a_failed_run() -> None:
    raw = run_of("fx_job")
    r = mapping.run(raw, LINKS, failed_why())
    assert r.pipeline_id == "fx_job"
    assert r.external_id == raw["runId"]
    assert (r.status, r.raw_status) == (RunStatus.FAILED, "FAILURE")
    assert r.trigger is TriggerKind.MANUAL
    assert r.error == f"convert: {CONVERT_ERROR}"
    assert r.queued_at == at(raw["creationTime"])
    assert r.started_at == at(raw["startTime"])
    assert r.ended_at == at(raw["endTime"])
    assert r.status_at == at(raw["updateTime"])
    assert r.started_at is not None
    assert r.started_at.timestamp() == pytest.approx(raw["startTime"])  # float seconds, kept
    assert r.ui_url == f"{URL}/runs/{raw['runId']}"
    assert r.tags == ("team=finance",)  # dagster/failure_reason is Dagster's own
    assert r.metadata == {"tags": {"dagster/failure_reason": "STEP_FAILURE", "team": "finance"}}


def test_the_failure_events_of_the_log() -> None:
    why = failed_why()
    assert dict(why.steps) == {"convert": [CONVERT_ERROR]}
    assert why.run == CONVERT_ERROR  # the user's exception, not Dagster's wrapper
    assert dict(retry_why().steps) == {"flaky": [FLAKY_ERROR]}
    assert retry_why().run is None


def test_a_run_failure_without_step_errors_uses_the_run_s_own() -> None:
    log = [e for e in events("run_logs_failed") if e["__typename"] == "RunFailureEvent"]
    why = mapping.failure(log)  # the step's failure event left out of the recorded log
    assert why.steps == {}
    assert mapping.run(run_of("fx_job"), LINKS, why).error == CONVERT_ERROR
    (event,) = copy.deepcopy(log)
    event["error"] = None  # edited: a run failure without an error, e.g. a crash
    assert (
        mapping.failure([event]).run
        == "Execution of run for \"fx_job\" failed. Steps failed: ['convert']."
    )


def test_a_successful_run_has_no_error_even_with_retried_steps() -> None:
    raw = run_of("retry_job")
    r = mapping.run(raw, LINKS, retry_why())
    assert (r.status, r.error) == (RunStatus.SUCCESS, None)
    assert r.tags == ()
    assert r.metadata == {}


def test_an_asset_run() -> None:
    raw = run_of("__ASSET_JOB")
    r = mapping.run(raw, LINKS, None)
    assert (r.status, r.trigger, r.error) == (RunStatus.SUCCESS, TriggerKind.MANUAL, None)
    assert r.metadata == {"asset_selection": ["warehouse/orders", "warehouse/daily_revenue"]}


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ([], TriggerKind.MANUAL),
        ([{"key": "dagster/schedule_name", "value": "warehouse_daily"}], TriggerKind.SCHEDULED),
        ([{"key": "dagster/sensor_name", "value": "rates_landed"}], TriggerKind.EVENT),
        ([{"key": "dagster/auto_materialize", "value": "true"}], TriggerKind.EVENT),
        ([{"key": "dagster/from_automation_condition", "value": "true"}], TriggerKind.EVENT),
        ([{"key": "dagster/backfill", "value": "kqzyxpvo"}], TriggerKind.BACKFILL),
        # A backfill launched by a schedule is a backfill first.
        (
            [
                {"key": "dagster/schedule_name", "value": "warehouse_daily"},
                {"key": "dagster/backfill", "value": "kqzyxpvo"},
            ],
            TriggerKind.BACKFILL,
        ),
    ],
)
def test_the_trigger_from_the_run_s_tags(tags: list[dict[str, str]], expected: TriggerKind) -> None:
    raw = run_of("fx_job")
    raw["tags"] = [*raw["tags"], *tags]  # edited: the recorded runs were started by hand
    r = mapping.run(raw, LINKS, failed_why())
    assert r.trigger is expected
    assert r.tags == ("team=finance",)  # Dagster's own tags are metadata, not tags


def test_a_run_that_goes_on_has_no_end_yet() -> None:
    raw = run_of("fx_job")
    raw["status"] = "STARTED"  # edited: recorded FAILURE, with its end time
    r = mapping.run(raw, LINKS, failed_why())
    assert (r.status, r.ended_at, r.error) == (RunStatus.RUNNING, None, None)


# -- step runs ------------------------------------------------------------------------------------


def steps_of(job: str, why: mapping.Failure | None, **edits: Any) -> dict[tuple[str, int], Any]:
    raw = run_of(job) | edits
    out = mapping.step_runs(raw, raw["stepKeysToExecute"], LINKS, why)
    return {(s.task_id, s.attempt): s for s in out}


def test_the_steps_of_a_failed_run() -> None:
    raw = run_of("fx_job")
    steps = steps_of("fx_job", failed_why())
    assert sorted(steps) == [("convert", 1), ("fetch_rates", 1), ("publish", 1)]
    fetch, convert, publish = (steps[(k, 1)] for k in ("fetch_rates", "convert", "publish"))
    assert (fetch.status, fetch.error) == (RunStatus.SUCCESS, None)
    assert (convert.status, convert.raw_status) == (RunStatus.FAILED, "FAILURE")
    assert convert.error == CONVERT_ERROR
    stats = {s["stepKey"]: s for s in raw["stepStats"]}
    assert convert.started_at == at(stats["convert"]["startTime"])
    assert convert.ended_at == at(stats["convert"]["endTime"])
    assert convert.log_url == f"{URL}/runs/{raw['runId']}"
    # publish never started: Dagster has no stats for it; the run is over, so it never will.
    assert (publish.status, publish.raw_status) == (RunStatus.NOT_RUN, None)
    assert (publish.started_at, publish.ended_at) == (None, None)


def test_a_step_not_started_in_a_running_run_is_queued() -> None:
    # Edited: the recorded run is over; the same stats in a run still going.
    steps = steps_of("fx_job", None, status="STARTED")
    assert steps[("publish", 1)].status is RunStatus.QUEUED
    assert steps[("convert", 1)].status is RunStatus.FAILED


def test_a_step_in_progress_when_its_run_failed_was_cut_off() -> None:
    raw = run_of("fx_job")
    raw["stepStats"][1]["status"] = "IN_PROGRESS"  # edited: recorded FAILURE (convert)
    steps = {s.task_id: s for s in mapping.step_runs(raw, [], LINKS, failed_why())}
    assert (steps["convert"].status, steps["convert"].raw_status) == (
        RunStatus.FAILED,
        "IN_PROGRESS",
    )


def test_every_attempt_of_a_retried_step() -> None:
    raw = run_of("retry_job")
    steps = steps_of("retry_job", retry_why())
    assert sorted(steps) == [("flaky", 1), ("flaky", 2), ("settle", 1)]
    first, second = steps[("flaky", 1)], steps[("flaky", 2)]
    (stats,) = [s for s in raw["stepStats"] if s["stepKey"] == "flaky"]
    assert (first.status, first.raw_status, first.error) == (
        RunStatus.FAILED,
        "UP_FOR_RETRY",
        FLAKY_ERROR,
    )
    assert first.started_at == at(stats["attempts"][0]["startTime"])
    assert first.ended_at == at(stats["attempts"][0]["endTime"])
    assert (second.status, second.raw_status, second.error) == (RunStatus.SUCCESS, "SUCCESS", None)
    assert second.started_at == at(stats["attempts"][1]["startTime"])
    assert second.ended_at == at(stats["endTime"])
    assert steps[("settle", 1)].status is RunStatus.SUCCESS


def test_planned_steps_come_from_the_snapshot_when_the_run_names_none() -> None:
    raw = run_of("fx_job")
    planned = [t.external_id for t in mapping.tasks("fx_job", snapshot("fx_job"))]
    raw["stepKeysToExecute"] = None  # edited: a run of the whole job may name no steps
    steps = mapping.step_runs(raw, planned, LINKS, failed_why())
    assert sorted(s.task_id for s in steps) == ["convert", "fetch_rates", "publish"]


# -- assets ---------------------------------------------------------------------------------------


def assets(keys: AssetKeys = KEYS) -> dict[str, Any]:
    return {str(a.alias): a for a in (mapping.asset(n, keys, LINKS) for n in nodes())}


def test_an_asset_with_a_time_window_freshness_policy() -> None:
    a = assets()["warehouse/orders"]
    assert a.uri == ORDERS
    assert a.kind == "postgres,python"
    assert a.description == "Orders, cleaned"
    assert a.owners == ("alice@example.com", "team:analytics")  # "team:" restored
    assert a.tags == ("domain=sales",)  # no dagster/kind/ tags
    assert a.freshness_max_age_s == 86400.0
    assert (a.freshness_cron, a.freshness_timezone) == (None, None)
    assert a.metadata == {
        "dagster_key": ["warehouse", "orders"],
        "group": "warehouse",
        "kinds": ["postgres", "python"],
        "jobs": ["__ASSET_JOB", "warehouse_job"],
        "ops": ["warehouse__orders"],
        "checks": ["orders_have_ids"],
        "code_location": "estate",
        "url": f"{URL}/assets/warehouse/orders",
    }


def test_an_asset_with_a_cron_freshness_policy() -> None:
    a = assets()["warehouse/daily_revenue"]
    assert a.uri == REVENUE
    assert a.owners == ("team:analytics",)
    assert a.tags == ()
    assert a.freshness_max_age_s == 21600.0
    assert a.freshness_cron == "0 6 * * *"
    assert a.freshness_timezone == "UTC"
    assert a.metadata["checks"] == ["revenue_is_positive"]


def test_an_external_asset() -> None:
    a = assets()["lake/raw/orders"]
    assert a.uri == RAW_ORDERS
    assert a.kind == "s3"
    assert a.owners == ("team:ingest",)
    assert a.tags == ()
    assert a.freshness_max_age_s is None
    assert a.metadata["external"] is True
    assert "jobs" not in a.metadata
    assert "checks" not in a.metadata


def test_asset_uris_follow_the_rules() -> None:
    keys = AssetKeys(
        [
            AssetRule(prefix=("lake",), namespace="s3://lake"),
            AssetRule(prefix=("warehouse",), namespace="postgres://db:5432", separator="."),
        ],
        URL,
    )
    found = assets(keys)
    assert found["lake/raw/orders"].uri == "s3://lake/raw/orders"
    assert found["warehouse/orders"].uri == "postgres://db:5432/orders"
    assert found["warehouse/orders"].alias == "warehouse/orders"  # Dagster's name stays
    # … and says which rule made it this identity; a key no rule matches has no rule to name.
    assert found["warehouse/orders"].alias_reason == "asset rule warehouse → postgres://db:5432"
    assert assets(AssetKeys([], URL))["warehouse/orders"].alias_reason is None
    assert found["warehouse/orders"].metadata["url"] == f"{URL}/assets/warehouse/orders"


def test_dependency_edges() -> None:
    edges = [e for n in nodes() for e in mapping.dependency_edges(n, KEYS)]
    assert sorted(edges, key=str) == sorted(
        [
            EdgeRecord(NodeRef.asset(RAW_ORDERS), NodeRef.asset(ORDERS)),
            EdgeRecord(NodeRef.asset(ORDERS), NodeRef.asset(REVENUE)),
        ],
        key=str,
    )
    assert {e.origin for e in edges} == {EdgeOrigin.DECLARED}


@pytest.mark.parametrize(
    ("owner", "expected"),
    [
        ({"__typename": "TeamAssetOwner", "team": "ingest"}, "team:ingest"),
        ({"__typename": "TeamAssetOwner", "team": ""}, ""),
        ({"__typename": "UserAssetOwner", "email": "alice@example.com"}, "alice@example.com"),
        ({"__typename": "UserAssetOwner", "email": None}, ""),
    ],
)
def test_owners(owner: dict[str, Any], expected: str) -> None:
    assert mapping.owner(owner) == expected


def test_an_asset_without_a_policy_or_with_an_unknown_one() -> None:
    raw = node("warehouse", "orders")
    # Edited: a policy type this adapter does not know (a later Dagster, say) is ignored.
    raw["internalFreshnessPolicy"] = {"__typename": "SomeNewPolicy", "failWindowSeconds": 60}
    a = mapping.asset(raw, KEYS, LINKS)
    assert (a.freshness_max_age_s, a.freshness_cron) == (None, None)


# -- materialisations -----------------------------------------------------------------------------


RUN_JOBS = {r["runId"]: r["jobName"] for r in runs()}


def materialize(path: list[str], m: dict[str, Any]) -> Any:
    return mapping.materialization(m, path, RUN_JOBS.get(m["runId"]), KEYS)


def test_a_materialisation_with_column_lineage() -> None:
    raw = materialization_of("warehouse", "daily_revenue")
    event, edges, lineage = materialize(["warehouse", "daily_revenue"], raw)
    when = datetime.fromtimestamp(int(raw["timestamp"]) / 1000, UTC)  # a string of milliseconds
    assert isinstance(raw["timestamp"], str)
    assert event.asset_uri == REVENUE
    assert event.kind is AssetEventKind.PRODUCED
    assert event.at == when
    assert event.run_id == raw["runId"]
    assert event.task_id == "warehouse__daily_revenue"
    assert event.row_count == 1
    assert event.metadata == {"metadata": {"dagster/row_count": 1}}  # lineage is its own record
    assert edges == [
        EdgeRecord(
            NodeRef.of_task("__ASSET_JOB", "warehouse__daily_revenue"),
            NodeRef.asset(REVENUE),
            EdgeOrigin.OBSERVED,
            when,
        )
    ]
    assert [(c.output_uri, c.output_column, c.input_uri, c.input_column) for c in lineage] == [
        (REVENUE, "revenue", ORDERS, "amount")
    ]
    assert lineage[0].seen_at == when


def test_a_materialisation_with_a_column_schema() -> None:
    event, _, lineage = materialize(
        ["warehouse", "orders"], materialization_of("warehouse", "orders")
    )
    assert event.row_count == 3
    assert lineage == []
    assert event.metadata == {
        "metadata": {
            "dagster/row_count": 3,
            "dagster/column_schema": [
                {"name": "id", "type": "int"},
                {"name": "amount", "type": "float"},
            ],
        }
    }


def test_a_materialisation_reported_from_outside_dagster() -> None:
    raw = materialization_of("lake", "raw", "orders")
    assert raw["runId"] == ""
    event, edges, lineage = materialize(["lake", "raw", "orders"], raw)
    assert (event.run_id, event.task_id) == (None, None)
    assert event.row_count == 10
    assert event.metadata == {
        "reported_from_outside": True,
        "metadata": {"dagster/row_count": 10},
    }
    assert (edges, lineage) == ([], [])


def test_no_task_edge_when_the_run_s_job_is_unknown() -> None:
    raw = materialization_of("warehouse", "orders")
    event, edges, _ = mapping.materialization(raw, ["warehouse", "orders"], None, KEYS)
    assert event.task_id == "warehouse__orders"
    assert edges == []


def test_a_partitioned_materialisation() -> None:
    raw = materialization_of("warehouse", "orders")
    raw["partition"] = "2026-11-24"  # edited: the recorded assets are not partitioned
    event, _, _ = materialize(["warehouse", "orders"], raw)
    assert event.metadata["partition"] == "2026-11-24"


# -- metadata entries -----------------------------------------------------------------------------


def seen_entries() -> dict[str, dict[str, Any]]:
    """Every recorded metadata entry, by type: materialisations' and check evaluations'."""
    found: dict[str, dict[str, Any]] = {}
    for _, m in materializations():
        for e in m["metadataEntries"]:
            found.setdefault(e["__typename"], e)
    return found


def test_metadata_value_of_each_entry_type_seen() -> None:
    entries = seen_entries()
    assert sorted(entries) == [
        "IntMetadataEntry",
        "TableColumnLineageMetadataEntry",
        "TableSchemaMetadataEntry",
    ]
    assert mapping.metadata_value(entries["IntMetadataEntry"]) == 10
    assert mapping.metadata_value(entries["TableSchemaMetadataEntry"]) == [
        {"name": "id", "type": "int"},
        {"name": "amount", "type": "float"},
    ]
    assert mapping.metadata_value(entries["TableColumnLineageMetadataEntry"]) == {
        "revenue": [{"asset": "warehouse/orders", "column": "amount"}]
    }


def test_an_int_entry_without_an_int_value_is_read_from_its_digits() -> None:
    entry = copy.deepcopy(seen_entries()["IntMetadataEntry"])
    entry["intValue"] = None  # edited: Dagster sends null beyond 32 bits, the digits in intRepr
    entry["intRepr"] = "3000000000"
    assert mapping.metadata_value(entry) == 3_000_000_000
    entry["intRepr"] = "many"  # edited: not digits at all
    assert mapping.metadata_value(entry) == "many"


def test_a_row_count_beyond_32_bits_is_kept() -> None:
    raw = materialization_of("lake", "raw", "orders")
    # Edited: Dagster's GraphQL Int is 32 bits; a bigger count comes as intValue null and the
    # digits in intRepr (IntMetadataEntry: "Nullable to allow graceful degrade on > 32 bit").
    raw["metadataEntries"][0]["intValue"] = None
    raw["metadataEntries"][0]["intRepr"] = "3000000000"
    event, _, _ = materialize(["lake", "raw", "orders"], raw)
    assert event.row_count == 3_000_000_000


def test_an_unknown_entry_type_has_no_value() -> None:
    entry = {"label": "x", "__typename": "SomeNewMetadataEntry"}  # edited type name
    assert mapping.metadata_value(entry) is None


# -- checks ---------------------------------------------------------------------------------------


def test_a_failed_check_with_severity_warn() -> None:
    path, raw = execution_of("revenue_is_positive")
    r = mapping.check_result(raw, path, "revenue_is_positive", KEYS)
    assert r is not None
    assert r.asset_uri == REVENUE
    assert r.check_name == "revenue_is_positive"
    assert (r.passed, r.severity) == (False, "warn")
    assert r.at == at(raw["evaluation"]["timestamp"])
    assert r.run_id == raw["runId"]
    assert r.external_id == f"warehouse/daily_revenue:revenue_is_positive:{raw['id']}"
    assert r.metadata == {"status": "FAILED", "metadata": {"negative_days": 2}}


def test_a_passed_check() -> None:
    path, raw = execution_of("orders_have_ids")
    r = mapping.check_result(raw, path, "orders_have_ids", KEYS)
    assert r is not None
    assert (r.asset_uri, r.passed, r.severity) == (ORDERS, True, "error")
    assert r.metadata == {"status": "SUCCEEDED", "metadata": {"null_ids": 0}}


def test_a_check_in_progress_has_no_result_yet() -> None:
    path, raw = execution_of("orders_have_ids")
    raw |= {"status": "IN_PROGRESS", "evaluation": None}  # edited: recorded SUCCEEDED
    assert mapping.check_result(raw, path, "orders_have_ids", KEYS) is None


def test_a_check_that_raised_did_not_pass() -> None:
    path, raw = execution_of("orders_have_ids")
    raw |= {"status": "EXECUTION_FAILED", "evaluation": None}  # edited: recorded SUCCEEDED
    r = mapping.check_result(raw, path, "orders_have_ids", KEYS)
    assert r is not None
    assert (r.passed, r.severity) == (False, None)
    assert r.at == at(raw["timestamp"])  # no evaluation: the execution's own time
    assert r.metadata == {"status": "EXECUTION_FAILED"}


def test_a_skipped_check_has_no_result() -> None:
    path, raw = execution_of("orders_have_ids")
    raw |= {"status": "SKIPPED", "evaluation": None}  # edited: recorded SUCCEEDED
    assert mapping.check_result(raw, path, "orders_have_ids", KEYS) is None


# -- times and bad input --------------------------------------------------------------------------


def test_times() -> None:
    assert mapping.seconds(1795529888.649536) == at(1795529888.649536)
    assert mapping.seconds(None) is None
    assert mapping.seconds(True) is None
    assert mapping.millis("1795529884380") == at(1795529884.380)
    assert mapping.millis(1795529884380.1865) == at(1795529884.3801865)
    assert mapping.millis("") is None
    assert mapping.millis(None) is None


def test_a_materialisation_without_a_timestamp_is_refused() -> None:
    raw = materialization_of("warehouse", "orders")
    del raw["timestamp"]  # edited: the field is missing
    with pytest.raises(ValueError, match="materialisation of warehouse/orders has no timestamp"):
        materialize(["warehouse", "orders"], raw)


@pytest.mark.parametrize("bad", ["yesterday", [1795529881577], {"ms": 1}])
def test_a_materialisation_with_a_timestamp_of_the_wrong_type_is_refused(bad: Any) -> None:
    raw = materialization_of("warehouse", "orders")
    raw["timestamp"] = bad  # edited: a wrong type
    with pytest.raises((ValueError, TypeError)):
        materialize(["warehouse", "orders"], raw)


def test_a_run_with_a_time_of_the_wrong_type_is_refused() -> None:
    raw = run_of("fx_job")
    raw["startTime"] = "yesterday"  # edited: a wrong type
    with pytest.raises(ValueError, match="yesterday"):
        mapping.run(raw, LINKS, None)


def test_a_run_without_its_job_is_refused() -> None:
    raw = run_of("fx_job")
    del raw["jobName"]  # edited: the field is missing
    with pytest.raises(KeyError, match="jobName"):
        mapping.run(raw, LINKS, None)


# -- through the adapter, replaying the recording ---------------------------------------------


class Replay:
    """Answers each of the adapter's queries with the recorded ``data`` of the same query."""

    def __init__(self, edit: dict[str, Any] | None = None) -> None:
        self.answers = {
            "workspaceOrError": recorded("workspace"),
            "assetNodes": recorded("asset_nodes"),
            "runsOrError": recorded("runs"),
            "assetsOrError": recorded("assets"),
            "assetOrError (materialisations)": recorded("materializations"),
            "assetCheckExecutions": recorded("check_executions"),
        } | (edit or {})
        for r in runs():
            self.answers[f"pipelineSnapshotOrError({r['pipelineSnapshotId']})"] = recorded(
                f"job_snapshot_{r['jobName']}"
            )
        self.answers[f"logsForRun({run_of('fx_job')['runId']})"] = recorded("run_logs_failed")
        self.answers[f"logsForRun({run_of('retry_job')['runId']})"] = recorded("run_logs_retry_job")
        self.documents: list[str] = []

    def query(self, what: str, document: str, variables: dict[str, Any] | None = None) -> Any:
        self.documents.append(document)
        return copy.deepcopy(self.answers[what])


def replay(monkeypatch: pytest.MonkeyPatch, edit: dict[str, Any] | None = None) -> list[Batch]:
    answers = Replay(edit)
    monkeypatch.setattr(DagsterSession, "query", lambda self, *a: answers.query(*a))
    adapter = DagsterAdapter("d", DagsterConfig(url=URL))
    try:
        return list(adapter.fetch(None))
    finally:
        adapter.close()


def test_a_sync_from_scratch_maps_every_recorded_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    batches = replay(monkeypatch)
    runs_ = {r.pipeline_id: r for b in batches for r in b.runs}
    assert sorted(runs_) == ["__ASSET_JOB", "fx_job", "retry_job"]
    assert runs_["fx_job"].error == f"convert: {CONVERT_ERROR}"
    steps = {(s.task_id, s.attempt): s.status for b in batches for s in b.task_runs}
    assert steps[("publish", 1)] is RunStatus.NOT_RUN
    assert steps[("flaky", 1)] is RunStatus.FAILED
    assert steps[("flaky", 2)] is RunStatus.SUCCESS
    events_ = {e.asset_uri: e for b in batches for e in b.asset_events}
    assert sorted(events_) == sorted([RAW_ORDERS, ORDERS, REVENUE])
    task_edges = [e for b in batches for e in b.edges if e.origin is EdgeOrigin.OBSERVED]
    assert len(task_edges) == 2
    results = {c.check_name: c.passed for b in batches for c in b.check_results}
    assert results == {"revenue_is_positive": False, "orders_have_ids": True}
    assert sum(len(b.column_lineage) for b in batches) == 1
    assert "since" in batches[-1].cursor


def test_a_materialisation_without_a_timestamp_fails_the_sync_clearly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    answer = recorded("materializations")
    del answer["a2"]["assetMaterializations"][0]["timestamp"]  # edited: the field is missing
    with pytest.raises(AdapterError) as caught:
        replay(monkeypatch, {"assetOrError (materialisations)": answer})
    assert str(caught.value) == (
        f"Dagster at {URL} sent a materialisation of warehouse/orders that cannot be read: "
        "ValueError('materialisation of warehouse/orders has no timestamp')"
    )


def test_a_run_with_a_bad_time_fails_the_sync_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    answer = recorded("runs")
    answer["runsOrError"]["results"][0]["startTime"] = "yesterday"  # edited: a wrong type
    with pytest.raises(AdapterError, match="yesterday"):
        replay(monkeypatch, {"runsOrError": answer})


def test_a_check_execution_with_a_bad_time_fails_the_sync_clearly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    answer = recorded("check_executions")
    answer["a0"][0]["evaluation"]["timestamp"] = "soon"  # edited: a wrong type
    with pytest.raises(AdapterError, match="soon"):
        replay(monkeypatch, {"assetCheckExecutions": answer})


def test_every_document_is_one_of_the_adapter_s(monkeypatch: pytest.MonkeyPatch) -> None:
    """The replay answered the documents of queries.py, batched as the recording was."""
    answers = Replay()
    monkeypatch.setattr(DagsterSession, "query", lambda self, *a: answers.query(*a))
    adapter = DagsterAdapter("d", DagsterConfig(url=URL))
    list(adapter.fetch(None))
    assert answers.documents[:3] == [queries.WORKSPACE, queries.ASSET_NODES, queries.RUNS]


def test_the_run_error_names_the_step_that_failed_it() -> None:
    # Edited: one log of two recorded ones, flaky's retry (it then succeeded) before convert's
    # failure, as in a run whose first step was retried and whose second failed.
    log = [*events("run_logs_retry_job"), *events("run_logs_failed")]
    assert mapping.run(run_of("fx_job"), LINKS, mapping.failure(log)).error == (
        f"convert: {CONVERT_ERROR}"
    )
