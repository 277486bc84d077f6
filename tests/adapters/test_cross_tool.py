"""One estate, three orchestrators and an OpenLineage producer, one graph: real Airflow, Prefect
and Dagster servers at once, synced into one catalog.

Airflow's ``tempox_producer`` writes ``s3://lake/raw/orders`` (an asset outlet); Dagster
declares that table as the external asset ``lake/raw/orders`` its warehouse assets depend on
(mapped onto the same identity by a key rule) and materialises them; a Prefect flow
materialises a report from Dagster's ``daily_revenue``; a BI job reports through the
openlineage-python client that it read the report.
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest
from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import InputDataset, Job, Run, RunEvent, RunState
from openlineage.client.transport.http import HttpConfig, HttpTransport
from starlette.testclient import TestClient

from api.app import create_app
from api.demo.estate import AIRFLOW_PASSWORD_ENV, demo_settings
from catalog.config import Settings
from catalog.enums import NodeKind
from catalog.filters import Direction
from catalog.service import Catalog
from catalog.store import tables as t
from catalog.store.store import Store
from catalog.sync import sync_sources
from catalog.sync_types import SyncStatus
from tests.api.conftest import GraphQLClient
from tests.catalog.store.snapshot import snapshot
from tests.peers.airflow import PASSWORD, AirflowStack
from tests.peers.dagster import DagsterServer
from tests.peers.prefect import PrefectServer
from tests.peers.tempox import serve

pytestmark = [pytest.mark.peers, pytest.mark.xdist_group("peers")]

RAW_ORDERS = "s3://lake/raw/orders"
ORDERS = "postgres://warehouse:5432/orders"  # Dagster's warehouse/orders, by the rule
DAILY_REVENUE = "postgres://warehouse:5432/daily_revenue"
REPORT = "s3://reports/revenue_report"  # Prefect's
DASHBOARD_JOB = ("bi", "refresh_revenue_dashboard")  # OpenLineage's


def settings(airflow: AirflowStack, prefect: PrefectServer, dagster: DagsterServer) -> Settings:
    """The sources as the demo configures them (it replays a recording of this very story)."""
    return demo_settings({"airflow": airflow.url, "prefect": prefect.root, "dagster": dagster.root})


def sync_all(store: Store, config: Settings) -> None:
    results = sync_sources(store, config)
    assert {r.source: (r.status, r.error) for r in results} == {
        name: (SyncStatus.OK, None) for name in ("airflow", "prefect", "dagster")
    }


def report_dashboard_refresh(url: str) -> None:
    """What a BI tool's OpenLineage integration sends when a dashboard refresh reads the report."""
    client = OpenLineageClient(transport=HttpTransport(HttpConfig.from_dict({"url": url})))
    run, job = Run(runId=str(uuid4())), Job(namespace=DASHBOARD_JOB[0], name=DASHBOARD_JOB[1])
    report = InputDataset(namespace="s3://reports", name="revenue_report")
    now = datetime.now(UTC).isoformat()
    for state in (RunState.START, RunState.COMPLETE):
        client.emit(RunEvent(eventType=state, eventTime=now, run=run, job=job, inputs=[report]))


def reached(catalog: Catalog, uri: str) -> tuple[set[str], set[str]]:
    """Asset URIs and pipeline external ids downstream of ``uri``."""
    asset = catalog.asset(uri)
    assert asset is not None
    assert asset.id is not None
    walk = catalog.lineage((NodeKind.ASSET.value, asset.id), Direction.DOWNSTREAM, 10)
    return names(catalog, [(n.kind, n.id) for n in walk.nodes])


def names(catalog: Catalog, nodes: list[tuple[NodeKind, int]]) -> tuple[set[str], set[str]]:
    assets = catalog.by_ids(t.Asset, [i for k, i in nodes if k is NodeKind.ASSET])
    pipelines = catalog.by_ids(t.Pipeline, [i for k, i in nodes if k is NodeKind.PIPELINE])
    return {a.uri for a in assets if a}, {p.external_id for p in pipelines if p}


def test_one_graph_across_airflow_dagster_prefect_and_openlineage(
    store: Store,
    airflow: AirflowStack,
    prefect_server: PrefectServer,
    dagster_server: DagsterServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(AIRFLOW_PASSWORD_ENV, PASSWORD)
    # Airflow's producer of raw orders fails this time; Prefect builds the revenue report.
    failed = airflow.trigger("tempox_producer", {"fail": True})
    airflow.wait_for_runs([("tempox_producer", failed)])
    assert airflow.run_state("tempox_producer", failed) == "failed"
    prefect_server.run_flows("revenue-report")
    with serve(store) as url:
        report_dashboard_refresh(url)
    config = settings(airflow, prefect_server, dagster_server)
    sync_all(store, config)
    catalog = Catalog(store)

    # One downstream query from Airflow's raw orders reaches Dagster's warehouse, Prefect's
    # report and the OpenLineage job that read it.
    assets, pipelines = reached(catalog, RAW_ORDERS)
    assert {ORDERS, DAILY_REVENUE, REPORT} <= assets
    assert ":".join(DASHBOARD_JOB) in pipelines, pipelines

    # The failed Airflow run's impact lists the Dagster and Prefect assets below it.
    run = catalog.run_by_external_id("airflow", f"tempox_producer/{failed}")
    assert run is not None
    assert run.id is not None
    assert run.status == "failed"
    impact = catalog.impact(run.id, 10)
    assert impact is not None
    below, _ = names(catalog, [(n.kind, n.id) for n in impact.downstream.nodes])
    assert {RAW_ORDERS, ORDERS, DAILY_REVENUE, REPORT} <= below
    assert (impact.outputs[0][1], len(impact.outputs)) == (False, 1)  # it wrote nothing

    # Failed runs of the last week come from all three tools, in one GraphQL query.
    with TestClient(create_app(catalog=catalog)) as http:
        failed_runs = GraphQLClient(http).data(
            """{ failedRuns(first: 100) { nodes { pipeline { source { name kind } } } } }"""
        )["failedRuns"]["nodes"]
    kinds = {r["pipeline"]["source"]["kind"] for r in failed_runs}
    assert kinds == {"airflow", "prefect", "dagster"}

    # A second sync changes nothing.
    before = snapshot(store)
    sync_all(store, config)
    assert snapshot(store) == before
