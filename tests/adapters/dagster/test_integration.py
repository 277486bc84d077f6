"""The Dagster adapter against a real dagster-webserver 1.13.27: the catalog equals what
Dagster's GraphQL API reports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from catalog.config import parse_settings
from catalog.filters import RunFilter
from catalog.pagination import PageRequest
from catalog.service import Catalog
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
from tests.peers.dagster import DagsterServer
from tests.peers.proxy import FaultProxy

pytestmark = [pytest.mark.peers, pytest.mark.xdist_group("peers")]

# The rule the tests configure: Dagster's lake/… keys are the bucket other tools write.
RULES = [{"prefix": ["lake"], "namespace": "s3://lake"}]
RUN_STATUS = {"SUCCESS": "success", "FAILURE": "failed", "STARTED": "running"}
STEP_STATUS = {"SUCCESS": "success", "FAILURE": "failed", "SKIPPED": "skipped"}


def sync(store: Store, url: str, **options: Any) -> SyncResult:
    source = {"kind": "dagster", "url": url, "asset_rules": RULES} | options
    settings = parse_settings({"sources": {"dagster": source}}, file="tempox.toml")
    [result] = sync_sources(store, settings)
    return result


def synced(store: Store, url: str) -> None:
    result = sync(store, url)
    assert result.status is SyncStatus.OK, result.error


def uri(path: list[str], server: DagsterServer) -> str:
    if path[0] == "lake":
        return "s3://lake/" + "/".join(path[1:])
    return f"dagster://127.0.0.1:{server.port}/" + "/".join(path)


def seconds(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


# -- what Dagster says --------------------------------------------------------------------------

RUNS = """
query { runsOrError { ... on Runs { results {
  runId status jobName startTime endTime stepKeysToExecute tags { key value }
  stepStats { stepKey status attempts { startTime } }
} } } }
"""
LOGS = """
query ($runId: ID!) { logsForRun(runId: $runId) { ... on EventConnection { events {
  __typename ... on ExecutionStepFailureEvent { stepKey error { cause { message } } }
} } } }
"""
NODES = """
query { assetNodes {
  assetKey { path } dependencyKeys { path } description kinds
  owners { ... on UserAssetOwner { email } ... on TeamAssetOwner { team } }
  internalFreshnessPolicy {
    ... on TimeWindowFreshnessPolicy { failWindowSeconds }
    ... on CronFreshnessPolicy { deadlineCron lowerBoundDeltaSeconds timezone }
  }
  assetChecksOrError { ... on AssetChecks { checks { name } } }
} }
"""
MATERIALIZATIONS = """
query ($key: AssetKeyInput!) { assetOrError(assetKey: $key) { ... on Asset {
  assetMaterializations { runId timestamp stepKey
    metadataEntries { label ... on IntMetadataEntry { intValue } } }
} } }
"""
CHECKS = """
query ($key: AssetKeyInput!, $check: String!) {
  assetCheckExecutions(assetKey: $key, checkName: $check, limit: 100) {
    runId status evaluation { success severity timestamp }
  }
}
"""


def api_runs(ds: DagsterServer) -> dict[str, dict[str, Any]]:
    return {r["runId"]: r for r in ds.graphql(RUNS)["runsOrError"]["results"]}


def api_attempts(ds: DagsterServer) -> set[tuple[str, str, int, str, str]]:
    """(run, step, attempt, "", status) of every step attempt, and a not-run row for each step
    of the plan that never started in a finished run."""
    out: set[tuple[str, str, int, str, str]] = set()
    for run_id, r in api_runs(ds).items():
        for s in r["stepStats"]:
            attempts = max(len(s["attempts"]), 1)
            out |= {(run_id, s["stepKey"], n, "", "failed") for n in range(1, attempts)}
            out.add((run_id, s["stepKey"], attempts, "", STEP_STATUS[s["status"]]))
        started = {s["stepKey"] for s in r["stepStats"]}
        out |= {(run_id, k, 1, "", "not_run") for k in r["stepKeysToExecute"] or ()} - {
            (run_id, k, 1, "", "not_run") for k in started
        }
    return out


def api_nodes(ds: DagsterServer) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = ds.graphql(NODES)["assetNodes"]
    return nodes


# -- tests --------------------------------------------------------------------------------------


def test_runs_steps_and_failures_equal_the_api(store: Store, dagster_server: DagsterServer) -> None:
    ds = dagster_server
    synced(store, ds.url)
    api, ours = api_runs(ds), catalog_runs(store)
    assert set(ours) == set(api)
    assert pipeline_of_runs(store) == {i: r["jobName"] for i, r in api.items()}
    for run_id, r in api.items():
        run = ours[run_id]
        assert (run.raw_status, run.status) == (r["status"], RUN_STATUS[r["status"]])
        assert (run.started_at, run.ended_at) == (seconds(r["startTime"]), seconds(r["endTime"]))
        assert run.trigger == "manual"  # started from the CLI, not a schedule or sensor
    assert catalog_attempts(store) == api_attempts(ds)
    # The failed run's error is the user's exception, named with the step it came from.
    [failed] = [i for i, r in api.items() if r["status"] == "FAILURE"]
    events = ds.graphql(LOGS, {"runId": failed})["logsForRun"]["events"]
    [step] = [e for e in events if e["__typename"] == "ExecutionStepFailureEvent"]
    cause = step["error"]["cause"]["message"].strip()
    assert cause == "ValueError: no rate for GBP in ['EUR']"
    assert ours[failed].error == f"convert: {cause}"
    # ``publish`` never started: reported as not run, not lost.
    assert (failed, "publish", 1, "", "not_run") in catalog_attempts(store)
    # ``flaky`` failed once and succeeded on its retry: two attempts.
    [retried] = [i for i, r in api.items() if r["jobName"] == "retry_job"]
    flaky = sorted(a[2:] for a in catalog_attempts(store) if a[:2] == (retried, "flaky"))
    assert flaky == [(1, "", "failed"), (2, "", "success")]


def test_jobs_schedules_and_sensors(store: Store, dagster_server: DagsterServer) -> None:
    synced(store, dagster_server.url)
    with store.session() as s:
        jobs = {p.external_id: p for p in s.scalars(select(t.Pipeline))}
    assert set(jobs) == {"__ASSET_JOB", "fx_job", "retry_job", "warehouse_job", "archive_job"}
    assert (jobs["warehouse_job"].schedule, jobs["warehouse_job"].paused) == ("0 5 * * *", False)
    assert jobs["warehouse_job"].schedule_active is True
    assert jobs["warehouse_job"].description == "Rebuild the warehouse"
    assert (jobs["fx_job"].schedule, jobs["fx_job"].paused) == (None, True)  # sensor stopped
    assert jobs["fx_job"].schedule_active is None  # a sensor is no schedule
    assert jobs["retry_job"].paused is None  # nothing automates it
    # Its only schedule is stopped: the cron is shown, as not active.
    archive = jobs["archive_job"]
    assert (archive.schedule, archive.schedule_active, archive.paused) == ("0 2 * * *", False, True)
    tags = {tag for i, tag in catalog_labels(store, t.Tag, "pipeline") if i == jobs["fx_job"].id}
    assert tags == {"team=finance"}
    # fx_job's ops and their dependencies come from the job's snapshot.
    edges = catalog_edges(store)
    assert ("declared", "task:fx_job.fetch_rates", "task:fx_job.convert") in edges
    assert ("declared", "task:fx_job.convert", "task:fx_job.publish") in edges


JOBS = """
query { workspaceOrError { ... on Workspace { locationEntries { locationOrLoadError {
  ... on RepositoryLocation { repositories { jobs { name tags { key value } } } }
} } } } }
"""


def test_jobs_and_their_runs_are_owned_as_their_tags_say(
    store: Store, dagster_server: DagsterServer
) -> None:
    ds = dagster_server
    synced(store, ds.url)
    [entry] = ds.graphql(JOBS)["workspaceOrError"]["locationEntries"]
    [repo] = entry["locationOrLoadError"]["repositories"]
    job_tags = {j["name"]: {t["key"]: t["value"] for t in j["tags"]} for j in repo["jobs"]}
    assert job_tags["archive_job"] == {"owner": "bob@example.com", "dagster/owner": "team:archive"}
    with store.session() as s:
        jobs = {p.id: p.external_id for p in s.scalars(select(t.Pipeline))}
    owners: dict[str, list[str]] = {}
    for i, name in sorted(catalog_labels(store, t.Owner, "pipeline")):
        owners.setdefault(jobs[i], []).append(name)
    assert {k: sorted(v) for k, v in owners.items()} == {
        "archive_job": ["bob@example.com", "team:archive"],
        "fx_job": ["team:finance"],  # tagged team=finance
        "warehouse_job": ["team:analytics"],
    }
    # A run carries its job's tags: fx_job's runs are the finance team's, and only they.
    api = api_runs(ds)
    fx_runs = {i for i, r in api.items() if r["jobName"] == "fx_job"}
    assert fx_runs
    found = Catalog(store).runs(RunFilter(owner="team:finance"), PageRequest(first=500)).items
    assert {r.external_id for r in found} == fx_runs
    run_owners = catalog_labels(store, t.Owner, "run")
    assert {(r.external_id, name) for r in found for i, name in run_owners if i == r.id} == {
        (i, "team:finance") for i in fx_runs
    }


def test_owner_tags_are_configurable(store: Store, dagster_server: DagsterServer) -> None:
    result = sync(store, dagster_server.url, owner_tags=["owner"])
    assert result.status is SyncStatus.OK, result.error
    assert sorted(name for _, name in catalog_labels(store, t.Owner, "pipeline")) == [
        "bob@example.com"
    ]
    assert catalog_labels(store, t.Owner, "run") == set()


def test_assets_owners_dependencies_and_freshness_equal_the_api(
    store: Store, dagster_server: DagsterServer
) -> None:
    ds = dagster_server
    synced(store, ds.url)
    nodes = api_nodes(ds)
    with store.session() as s:
        assets = {a.uri: a for a in s.scalars(select(t.Asset))}
    assert set(assets) == {uri(n["assetKey"]["path"], ds) for n in nodes}
    owners = catalog_labels(store, t.Owner, "asset")
    edges = catalog_edges(store)
    for n in nodes:
        asset = assets[uri(n["assetKey"]["path"], ds)]
        assert asset.description == n["description"]
        assert asset.kind == (",".join(sorted(n["kinds"])) or None)
        expected = {o.get("email") or f"team:{o['team']}" for o in n["owners"]}
        assert {name for i, name in owners if i == asset.id} == expected
        for dep in n["dependencyKeys"]:
            up = uri(dep["path"], ds)
            assert ("declared", f"asset:{up}", f"asset:{asset.uri}") in edges
        policy = n["internalFreshnessPolicy"] or {}
        if "failWindowSeconds" in policy:
            assert (asset.freshness_max_age_s, asset.freshness_cron) == (
                policy["failWindowSeconds"],
                None,
            )
        elif "deadlineCron" in policy:
            assert (asset.freshness_max_age_s, asset.freshness_cron) == (
                policy["lowerBoundDeltaSeconds"],
                policy["deadlineCron"],
            )
            assert asset.freshness_timezone == policy["timezone"]
        else:
            assert asset.freshness_max_age_s is None
    # The external AssetSpec is the bucket's object other tools write, through the rule.
    raw = assets["s3://lake/raw/orders"]
    assert raw.meta["external"] is True
    assert raw.meta["dagster_key"] == ["lake", "raw", "orders"]
    # An undeclared dependency is an auto-created stub, still upstream in the graph.
    stub = assets[uri(["vendor", "fx_rates"], ds)]
    assert stub.meta["auto_created_stub"] is True
    eur = uri(["warehouse", "revenue_in_eur"], ds)
    assert ("declared", f"asset:{stub.uri}", f"asset:{eur}") in edges


def test_materialisations_and_column_lineage_equal_the_api(
    store: Store, dagster_server: DagsterServer
) -> None:
    ds = dagster_server
    synced(store, ds.url)
    expected = set()
    for n in api_nodes(ds):
        key = {"path": n["assetKey"]["path"]}
        found = ds.graphql(MATERIALIZATIONS, {"key": key})["assetOrError"]
        for m in found["assetMaterializations"]:
            rows = {e["label"]: e.get("intValue") for e in m["metadataEntries"]}
            at = datetime.fromtimestamp(int(m["timestamp"]) / 1000, UTC)
            step = m["stepKey"] if m["runId"] else None
            expected.add(
                (uri(key["path"], ds), at, m["runId"] or None, step, rows.get("dagster/row_count"))
            )
    with store.session() as s:
        assets = {a.id: a.uri for a in s.scalars(select(t.Asset))}
        runs = {r.id: r.external_id for r in s.scalars(select(t.Run))}
        tasks = {k.id: k.external_id for k in s.scalars(select(t.Task))}
        task_of = {tr.id: tasks[tr.task_id] for tr in s.scalars(select(t.TaskRun))}
        ours = {
            (
                assets[e.asset_id],
                e.at,
                runs.get(e.run_id) if e.run_id else None,
                task_of.get(e.task_run_id) if e.task_run_id else None,
                e.row_count,
            )
            for e in s.scalars(select(t.AssetEvent).where(t.AssetEvent.kind == "produced"))
        }
        lineage = {
            (assets[c.output_asset_id], c.output_column, assets[c.input_asset_id], c.input_column)
            for c in s.scalars(select(t.ColumnLineage))
        }
    assert ours == expected
    # The materialisation reported from outside Dagster has no run.
    assert ("s3://lake/raw/orders", None, None, 10) in {(a, r, k, n) for a, _, r, k, n in ours}
    orders, revenue = uri(["warehouse", "orders"], ds), uri(["warehouse", "daily_revenue"], ds)
    assert lineage == {(revenue, "revenue", orders, "amount")}
    assert ("observed", "task:__ASSET_JOB.warehouse__orders", f"asset:{orders}") in catalog_edges(
        store
    )


def test_check_results_equal_the_api(store: Store, dagster_server: DagsterServer) -> None:
    ds = dagster_server
    synced(store, ds.url)
    expected = set()
    for n in api_nodes(ds):
        for check in n["assetChecksOrError"]["checks"]:
            variables = {"key": {"path": n["assetKey"]["path"]}, "check": check["name"]}
            for e in ds.graphql(CHECKS, variables)["assetCheckExecutions"]:
                ev = e["evaluation"]
                expected.add(
                    (
                        uri(n["assetKey"]["path"], ds),
                        check["name"],
                        ev["success"],
                        ev["severity"].lower(),
                        e["runId"],
                        seconds(ev["timestamp"]),
                    )
                )
    with store.session() as s:
        assets = {a.id: a.uri for a in s.scalars(select(t.Asset))}
        runs = {r.id: r.external_id for r in s.scalars(select(t.Run))}
        ours = {
            (
                assets[c.asset_id],
                c.check_name,
                c.passed,
                c.severity,
                runs.get(c.run_id) if c.run_id else None,
                c.at,
            )
            for c in s.scalars(select(t.CheckResult))
        }
    assert ours == expected
    assert {(c[1], c[2], c[3]) for c in ours} == {
        ("orders_have_ids", True, "error"),
        ("revenue_is_positive", False, "warn"),  # failed, but a warning: the run succeeded
    }


def test_freshness_in_the_catalog_follows_dagsters_policies(
    store: Store, dagster_server: DagsterServer
) -> None:
    ds = dagster_server
    synced(store, ds.url)
    orders = uri(["warehouse", "orders"], ds)
    with store.session() as s:
        [asset] = s.scalars(select(t.Asset).where(t.Asset.uri == orders))
        assert asset.last_produced_at is not None
        produced = asset.last_produced_at
    # Produced just now against a 24 h window: fresh now, stale a day later.
    catalog = Catalog(store)
    page = PageRequest(first=100)
    assert orders not in {a.uri for a in catalog.stale_assets(page, at=produced).items}
    later = produced + timedelta(days=1, seconds=1)
    assert orders in {a.uri for a in catalog.stale_assets(page, at=later).items}


def test_a_second_sync_changes_nothing_and_costs_a_handful_of_requests(
    store: Store, dagster_server: DagsterServer, proxy: FaultProxy
) -> None:
    # With a short overlap nothing of this estate is recent enough to be read again:
    # the workspace, asset definitions, runs, assets' latest materialisations, checks.
    assert_a_second_sync_changes_nothing(store, sync, proxy.url, proxy, 5)


def test_new_runs_and_materialisations_appear_after_the_next_sync(
    store: Store, dagster_server: DagsterServer
) -> None:
    ds = dagster_server
    synced(store, ds.url)
    before = set(catalog_runs(store))
    assert before == set(api_runs(ds))
    ds.execute_job("fx_job")
    ds.materialize("warehouse/orders")
    new = set(api_runs(ds)) - before
    assert len(new) == 2
    synced(store, ds.url)
    runs = catalog_runs(store)
    assert set(runs) - before == new
    assert {(pipeline_of_runs(store)[i], runs[i].status) for i in new} == {
        ("fx_job", "failed"),
        ("__ASSET_JOB", "success"),
    }
    assert catalog_attempts(store) == api_attempts(ds)
    orders = uri(["warehouse", "orders"], ds)
    with store.session() as s:
        [asset] = s.scalars(select(t.Asset).where(t.Asset.uri == orders))
        made = set(
            s.scalars(
                select(t.Run.external_id)
                .join(t.AssetEvent, t.AssetEvent.run_id == t.Run.id)  # type: ignore[arg-type]
                .where(t.AssetEvent.asset_id == asset.id)
            )
        )
    assert made & new
