"""The web UI's named operations (one request a page), run through the real app against the
seeded estate: each answers what its page shows."""

from __future__ import annotations

from typing import Any

from catalog.records import Batch, EdgeRecord, NodeRef
from catalog.service import Catalog
from tests.api.conftest import GraphQLClient
from tests.api.estate import CLEAN, RAW, REVENUE

UI_OPERATIONS = {"Overview", "Search", "LineageExplorer", "RunPage", "AssetPage"}


def _label(node: dict[str, Any]) -> str:
    entity = node["entity"]
    return str(entity.get("uri") or entity["name"])


def test_overview_answers_the_four_panels_in_one_request(client: GraphQLClient) -> None:
    overview = client.operation("Overview")
    failed = overview["failedRuns"]
    assert failed["totalCount"] == 3
    assert {(r["pipeline"]["name"], r["pipeline"]["source"]["kind"]) for r in failed["nodes"]} == {
        ("orders_job", "dagster"), ("Export reports", "airflow"), ("Ingest orders", "airflow"),
    }  # fmt: skip
    assert all(r["error"] for r in failed["nodes"] if r["pipeline"]["name"] == "orders_job")
    stale = overview["staleAssets"]["nodes"]
    assert [a["uri"] for a in stale] == [REVENUE, CLEAN]
    assert stale[1]["freshness"]["staleAfter"] == "2026-03-09T12:03:00+00:00"
    sources = {s["name"]: s["sync"]["outcome"] for s in overview["sources"]["nodes"]}
    assert sources == {"dagster-prod": "FAILED", "airflow-prod": "OK"}
    assert overview["slowerTasks"] == []


def test_search_finds_assets_and_pipelines_by_part_of_the_name(client: GraphQLClient) -> None:
    found = client.operation("Search", {"text": "ORDERS"})
    assert [a["uri"] for a in found["assets"]["nodes"]] == [RAW, CLEAN]
    assert {n["source"]["kind"] for n in found["assets"]["nodes"][0]["namedBy"]} == {
        "airflow", "dagster",
    }  # fmt: skip
    pipelines = {p["name"]: p for p in found["pipelines"]["nodes"]}
    assert set(pipelines) == {"orders_job", "Ingest orders"}
    assert pipelines["orders_job"]["runs"]["nodes"][0]["status"] == "FAILED"
    nothing = client.operation("Search", {"text": "no such thing"})
    assert nothing["assets"]["totalCount"] == nothing["pipelines"]["totalCount"] == 0


def test_lineage_explorer_marks_stale_assets_and_says_how_edges_are_known(
    client: GraphQLClient,
) -> None:
    graph = client.operation("LineageExplorer", {"node": {"asset": RAW}})["lineage"]
    assert graph["__typename"] == "LineageGraph"
    assert graph["truncated"] is False
    by_label = {_label(n): n for n in graph["nodes"]}
    assert by_label[RAW]["depth"] == 0
    assert {RAW, CLEAN, REVENUE, "Ingest orders", "clean_orders"} <= set(by_label)
    assert by_label[CLEAN]["entity"]["freshness"]["isStale"] is True
    assert by_label[RAW]["entity"]["freshness"]["isStale"] is False
    assert by_label["Ingest orders"]["entity"]["runs"]["nodes"][0]["status"] == "RUNNING"
    assert by_label["clean_orders"]["entity"]["pipeline"]["name"] == "orders_job"
    ids = {n["id"] for n in graph["nodes"]}
    assert all(e["upstream"]["id"] in ids and e["downstream"]["id"] in ids for e in graph["edges"])
    assert {o for e in graph["edges"] for o in e["origins"]} == {"DECLARED"}

    down = {"node": {"asset": RAW}, "direction": "DOWNSTREAM", "depth": 1}
    near = client.operation("LineageExplorer", down)["lineage"]
    assert max(n["depth"] for n in near["nodes"]) == 1
    missing = client.operation("LineageExplorer", {"node": {"asset": "s3://nope"}})["lineage"]
    assert missing == {"__typename": "NotFound", "message": "no asset 's3://nope' in the catalog"}


def test_run_page_has_every_attempt_and_the_impact_graph(client: GraphQLClient) -> None:
    failed = client.operation("Run", {"source": "dagster-prod", "externalId": "d-101"})["run"]
    page = client.operation("RunPage", {"id": failed["id"]})
    run = page["run"]
    assert (run["status"], run["trigger"], run["error"]) == (
        "FAILED", "SCHEDULED", "daily_revenue: division by zero",
    )  # fmt: skip
    assert [(t["task"]["name"], t["attempt"], t["status"]) for t in run["taskRuns"]["nodes"]] == [
        ("clean_orders", 1, "FAILED"), ("daily_revenue", 1, "UPSTREAM_FAILED"),
    ]  # fmt: skip
    impact = page["impact"]
    assert [(o["asset"]["uri"], o["produced"]) for o in impact["outputs"]] == [
        (CLEAN, False), (REVENUE, False),
    ]  # fmt: skip
    reached = {_label(n) for n in impact["downstream"]["nodes"]}
    assert {CLEAN, REVENUE, "Export reports"} <= reached

    missing = client.operation("RunPage", {"id": "999999"})
    assert missing["run"] == {"__typename": "NotFound", "message": "no run 999999"}
    assert missing["impact"] == {"__typename": "NotFound"}


def test_asset_page_names_owners_freshness_and_events(client: GraphQLClient) -> None:
    page = client.operation("AssetPage", {"uri": RAW})
    asset = page["asset"]
    assert asset["owners"] == ["data-eng@acme.io"]
    assert {(n["source"]["kind"], n["name"], n["reason"]) for n in asset["namedBy"]} == {
        ("dagster", "lake/raw/orders", "the source's own name for it"),
        ("airflow", RAW, "same canonical identity"),
    }
    assert asset["freshness"]["maxAgeSeconds"] == 172800.0
    assert asset["events"]["totalCount"] == 3
    assert [e["rowCount"] for e in asset["events"]["nodes"]] == [None, 1200, 1100]
    assert asset["links"] == []
    assert asset["columnLineage"] == []
    assert page["likelyMatches"] == []
    missing = client.operation("AssetPage", {"uri": "s3://nope"})["asset"]
    assert missing == {"__typename": "NotFound", "message": "no asset 's3://nope'"}


def test_asset_page_lists_the_likely_matches_of_its_asset(
    client: GraphQLClient, catalog: Catalog
) -> None:
    warehouse = "postgres://wh:5432/shop.public.orders"
    spark = catalog.store.ensure_source("spark", "openlineage")
    reads = EdgeRecord(NodeRef.asset(warehouse), NodeRef.asset("s3://reports/revenue"))
    catalog.store.write_batch(spark, Batch(cursor={}, edges=(reads,)))
    matches = client.operation("AssetPage", {"uri": RAW})["likelyMatches"]
    assert matches == [{"name": "orders", "asset": {"uri": RAW}, "other": {"uri": warehouse}}]
    assert client.operation("AssetPage", {"uri": REVENUE})["likelyMatches"] == []

    client.operation("LinkAssets", {"uri": RAW, "other": warehouse})
    page = client.operation("AssetPage", {"uri": RAW})
    assert page["likelyMatches"] == []
    assert [link["other"]["uri"] for link in page["asset"]["links"]] == [warehouse]
