"""The demo estate, replayed from the recordings of real servers through the adapters' own
code, answers the five questions Tempox exists for, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from api.app import create_app
from api.cli import main
from api.demo.estate import RECORDING_AGE, load_demo
from catalog.enums import NodeKind
from catalog.filters import Direction
from catalog.pagination import PageRequest
from catalog.service import Catalog
from catalog.store import tables as t
from catalog.store.store import Store
from catalog.sync_types import SyncStatus
from tests.api.conftest import GraphQLClient

NOW = datetime(2027, 3, 1, 12, tzinfo=UTC)
RECORDED = NOW - RECORDING_AGE  # where the recording's last answer lands
RAW_ORDERS = "s3://lake/raw/orders"
ORDERS = "postgres://warehouse:5432/orders"
DAILY_REVENUE = "postgres://warehouse:5432/daily_revenue"
REPORT = "s3://reports/revenue_report"


@pytest.fixture
def catalog(store: Store) -> Catalog:
    loaded = load_demo(store, now=NOW)
    assert {(r.source, r.status, r.error) for r in loaded.results} == {
        (tool, SyncStatus.OK, None) for tool in ("airflow", "dagster", "prefect")
    }
    assert loaded.misses == []
    assert loaded.events == 4
    assert loaded.shift > timedelta(0)
    return Catalog(store, clock=lambda: NOW)


def source_kinds(catalog: Catalog, runs: list[t.Run]) -> set[str]:
    pipelines = catalog.by_ids(t.Pipeline, [r.pipeline_id for r in runs])
    sources = catalog.by_ids(t.Source, [p.source_id for p in pipelines if p])
    return {s.kind for s in sources if s}


def test_failed_last_week_in_every_tool(catalog: Catalog) -> None:
    failed = catalog.runs(catalog.failed_runs_filter(None, None), PageRequest(500)).items
    assert source_kinds(catalog, failed) == {"airflow", "prefect", "dagster", "openlineage"}
    assert all(RECORDED - timedelta(hours=1) < r.started_at <= RECORDED for r in failed)  # type: ignore[operator]
    errors = {r.error for r in failed}
    assert "query timed out after 300 s" in errors  # the BI tool's, over OpenLineage


def test_stale_now(catalog: Catalog) -> None:
    stale = {a.uri for a in catalog.stale_assets(PageRequest(500)).items}
    # Orders has a 24-hour window and was built a day and a bit ago.
    assert ORDERS in stale
    assert catalog.stale_assets(PageRequest(500), at=RECORDED).items != stale


def test_downstream_of_a_failure_crosses_every_tool(catalog: Catalog) -> None:
    failed = catalog.runs(catalog.failed_runs_filter(None, None), PageRequest(500)).items
    producer = [r for r in failed if r.external_id.startswith("tempox_producer/")]
    assert len(producer) == 1
    impact = catalog.impact(producer[0].id or 0)
    assert impact is not None
    ids = [n.id for n in impact.downstream.nodes if n.kind is NodeKind.ASSET]
    below = {a.uri for a in catalog.by_ids(t.Asset, ids) if a}
    assert {RAW_ORDERS, ORDERS, DAILY_REVENUE, REPORT} <= below
    raw = catalog.asset(RAW_ORDERS)
    assert raw is not None
    walk = catalog.lineage((NodeKind.ASSET.value, raw.id or 0), Direction.DOWNSTREAM, 10)
    pipelines = [n.id for n in walk.nodes if n.kind is NodeKind.PIPELINE]
    names = {p.external_id for p in catalog.by_ids(t.Pipeline, pipelines) if p}
    assert "bi:refresh_revenue_dashboard" in names


def test_produced_during_a_window(catalog: Catalog) -> None:
    window = (RECORDED - timedelta(hours=1), RECORDED)
    events = catalog.produced_between(*window, PageRequest(500)).items
    produced = {a.uri for a in catalog.by_ids(t.Asset, [e.asset_id for e in events]) if a}
    assert {RAW_ORDERS, ORDERS, DAILY_REVENUE, REPORT} <= produced
    assert catalog.count_produced_between(NOW - timedelta(hours=1), NOW) == 0


def test_getting_slower(catalog: Catalog) -> None:
    slowest = catalog.slower_tasks()[0]
    (task,) = catalog.by_ids(t.Task, [slowest.task_id])
    assert task is not None
    assert task.name.startswith("refresh_aggregates")
    # Nightly sleeps: 0.5 s five times, then 0.8 to 1.2 s; the median of those is 1.0 s.
    assert slowest.ratio == pytest.approx(2.0, rel=0.25)


def test_the_command_loads_an_empty_database_and_refuses_a_full_one(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    first = CliRunner().invoke(main, ["demo", "--database", url, "--no-serve"])
    assert first.exit_code == 0, first.output
    assert "openlineage: 4 events through the intake" in first.output
    for tool in ("airflow", "prefect", "dagster"):
        assert tool in first.output
    again = CliRunner().invoke(main, ["demo", "--database", url, "--no-serve"])
    assert again.exit_code == 1
    assert "already holds a catalog: the demo needs an empty one" in again.output


def test_each_lineage_node_says_which_tools_know_it(catalog: Catalog) -> None:
    with TestClient(create_app(catalog=catalog)) as http:
        nodes = GraphQLClient(http).data(
            """query ($uri: String!) { lineage(node: {asset: $uri}, depth: 10) {
                 ... on LineageGraph { nodes { tools entity { ... on Asset { uri } } } } } }""",
            {"uri": RAW_ORDERS},
        )["lineage"]["nodes"]
    tools = {n["entity"]["uri"]: n["tools"] for n in nodes if n["entity"].get("uri")}
    assert tools[RAW_ORDERS] == ["airflow", "dagster"]  # Airflow writes it, Dagster declares it
    assert tools[ORDERS] == ["dagster"]
    assert tools[REPORT] == ["openlineage", "prefect"]  # Prefect builds it, the BI job reads it


def test_each_source_says_what_it_calls_an_asset_and_why(catalog: Catalog) -> None:
    (raw,) = catalog.names_of_assets([catalog.asset(RAW_ORDERS).id])  # type: ignore[union-attr]
    sources = {s.id: s.name for s in catalog.by_ids(t.Source, [n.source_id for n in raw]) if s}
    named = {(sources[n.source_id], n.name, n.reason) for n in raw}
    assert named == {
        ("airflow", RAW_ORDERS, "same canonical identity"),
        ("dagster", "lake/raw/orders", "asset rule lake → s3://lake"),
    }
