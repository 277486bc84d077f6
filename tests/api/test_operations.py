"""Every named operation in graphql/operations, run through the real app against a seeded estate."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from catalog.records import AssetRecord, Batch, EdgeRecord, NodeRef
from catalog.service import Catalog
from tests.api.conftest import OPERATIONS, GraphQLClient
from tests.api.estate import CLEAN, DASHBOARD, NOW, RAW, REVENUE, airflow_batch, dagster_batch
from tests.catalog.trend_estate import slowing_batch

EXERCISED = {
    "Sources", "Pipelines", "Runs", "Run", "FailedRuns", "Assets", "Asset", "StaleAssets",
    "Lineage", "Impact", "ProducedBetween", "ColumnLineage", "LinkAssets", "UnlinkAssets",
    "LikelyMatches", "SlowerTasks", "Viewer", "Tokens", "CreateToken", "RevokeToken", "AuditLog",
}  # fmt: skip


def _run_id(client: GraphQLClient, source: str, external_id: str) -> str:
    found = client.operation("Run", {"source": source, "externalId": external_id})["run"]
    assert found["__typename"] == "Run", found
    ident: str = found["id"]
    return ident


def _pipeline_id(client: GraphQLClient, search: str) -> str:
    nodes = client.operation("Pipelines", {"filter": {"search": search}})["pipelines"]["nodes"]
    assert len(nodes) == 1, nodes
    ident: str = nodes[0]["id"]
    return ident


def _entity(node: dict[str, Any]) -> str:
    entity = node["entity"]
    return str(entity.get("uri") or entity["name"])


def test_every_operation_file_is_exercised() -> None:
    assert {p.stem for p in OPERATIONS.glob("*.graphql")} == EXERCISED


# -- sources and pipelines ----------------------------------------------------------------------


def test_sources_show_their_sync_status(client: GraphQLClient) -> None:
    sources = client.operation("Sources")["sources"]
    assert sources["totalCount"] == 2
    by_name = {s["name"]: s for s in sources["nodes"]}
    airflow, dagster = by_name["airflow-prod"], by_name["dagster-prod"]
    assert airflow["kind"] == "airflow"
    assert airflow["baseUrl"] == "https://airflow.example"
    assert airflow["sync"]["outcome"] == "OK"
    assert airflow["sync"]["lastSuccessAt"] is not None
    assert airflow["sync"]["notices"] == ["DAG import error in broken_dag.py"]
    assert airflow["sync"]["records"] == airflow_batch().size()
    assert dagster["sync"]["outcome"] == "FAILED"
    assert dagster["sync"]["lastError"] == "dagster-prod: GraphQL endpoint refused the connection"
    assert dagster["sync"]["records"] == dagster_batch().size()


def test_pipelines_by_owner_with_tasks_and_latest_run(client: GraphQLClient) -> None:
    found = client.operation("Pipelines", {"filter": {"owner": "data-eng@acme.io"}})["pipelines"]
    assert found["totalCount"] == 1
    (ingest,) = found["nodes"]
    assert ingest["name"] == "Ingest orders"
    assert ingest["schedule"] == "0 2 * * *"
    assert ingest["scheduleActive"] is True
    assert ingest["paused"] is False
    assert ingest["tags"] == ["nightly", "tier=1"]
    assert ingest["source"] == {"name": "airflow-prod", "kind": "airflow"}
    assert {t["name"] for t in ingest["tasks"]} == {"extract", "load"}
    assert ingest["runs"]["totalCount"] == 4
    assert ingest["runs"]["nodes"] == [
        {"status": "RUNNING", "startedAt": "2026-03-10T11:50:00+00:00"}
    ]


def test_pipelines_by_source_and_tag(client: GraphQLClient) -> None:
    def names(f: dict[str, Any]) -> list[str]:
        return [
            p["name"] for p in client.operation("Pipelines", {"filter": f})["pipelines"]["nodes"]
        ]

    assert names({"source": ["dagster-prod"]}) == ["orders_job"]
    assert names({"tag": "reporting"}) == ["Export reports"]
    assert names({"source": ["airflow-prod"], "search": "ORDERS"}) == ["Ingest orders"]
    assert names({"source": ["nowhere"]}) == []


def test_nested_runs_of_each_pipeline_page_on_their_own(client: GraphQLClient) -> None:
    query = """query($after: String) { pipelines { nodes { externalId
        runs(first: 2, after: $after) { totalCount pageInfo { hasNextPage endCursor }
                                        nodes { externalId } } } } }"""
    pipelines = client.data(query)["pipelines"]["nodes"]
    runs = {p["externalId"]: p["runs"] for p in pipelines}
    assert [r["externalId"] for r in runs["ingest_orders"]["nodes"]] == [
        "ingest_orders/scheduled__0310", "ingest_orders/manual__0309",
    ]  # fmt: skip
    assert runs["ingest_orders"]["pageInfo"]["hasNextPage"] is True
    assert runs["ingest_orders"]["totalCount"] == 4
    assert runs["orders_job"]["pageInfo"]["hasNextPage"] is False
    assert [r["externalId"] for r in runs["orders_job"]["nodes"]] == ["d-101", "d-100"]

    after = runs["ingest_orders"]["pageInfo"]["endCursor"]
    again = client.data(query, {"after": after})["pipelines"]["nodes"]
    rest = next(p["runs"] for p in again if p["externalId"] == "ingest_orders")
    assert [r["externalId"] for r in rest["nodes"]] == [
        "ingest_orders/scheduled__0308", "ingest_orders/scheduled__0220",
    ]  # fmt: skip
    assert rest["pageInfo"]["hasNextPage"] is False


# -- runs -----------------------------------------------------------------------------------------


def test_runs_by_status_and_source_newest_first(client: GraphQLClient) -> None:
    f = {"status": ["FAILED", "UPSTREAM_FAILED"], "source": ["airflow-prod"]}
    runs = client.operation("Runs", {"filter": f})["runs"]
    assert runs["totalCount"] == 3
    assert [e["node"]["externalId"] for e in runs["edges"]] == [
        "export_reports/scheduled__0308",
        "ingest_orders/scheduled__0308",
        "ingest_orders/scheduled__0220",
    ]
    first = runs["edges"][0]["node"]
    assert first["status"] == "UPSTREAM_FAILED"
    assert first["rawStatus"] == "upstream_failed"
    assert first["pipeline"] == {"name": "Export reports", "source": {"name": "airflow-prod"}}


def test_runs_by_owner_tag_trigger_and_window(client: GraphQLClient) -> None:
    def ids(f: dict[str, Any]) -> list[str]:
        edges = client.operation("Runs", {"filter": f})["runs"]["edges"]
        return [e["node"]["externalId"] for e in edges]

    assert ids({"owner": "analytics@acme.io"}) == ["d-101", "d-100"]
    assert ids({"owner": "oncall@acme.io"}) == ["d-101"]  # the run's own owner
    assert ids({"tag": "retry-me"}) == ["ingest_orders/scheduled__0308"]
    assert ids({"tag": "reporting"}) == [
        "export_reports/scheduled__0308", "export_reports/scheduled__0305",
    ]  # fmt: skip
    assert ids({"trigger": ["MANUAL", "EVENT"]}) == ["d-100", "ingest_orders/manual__0309"]
    window = {"since": "2026-03-09T00:00:00Z", "until": "2026-03-09T12:00:00Z"}
    assert ids(window) == ["d-100", "ingest_orders/manual__0309"]
    pipeline = _pipeline_id(client, "orders_job")
    assert ids({"pipeline": [pipeline], "status": ["SUCCESS"]}) == ["d-100"]


def test_runs_page_through_with_cursors(client: GraphQLClient) -> None:
    everything = client.operation("Runs", {"first": 500})["runs"]
    expected = [e["node"]["id"] for e in everything["edges"]]
    assert len(expected) == everything["totalCount"] == 8

    seen: list[str] = []
    after, pages = None, 0
    while True:
        page = client.operation("Runs", {"first": 3, "after": after})["runs"]
        pages += 1
        seen += [e["node"]["id"] for e in page["edges"]]
        assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == expected
    assert pages == 3


def test_run_by_source_and_external_id_shows_every_retry(client: GraphQLClient) -> None:
    variables = {"source": "airflow-prod", "externalId": "ingest_orders/scheduled__0308"}
    run = client.operation("Run", variables)["run"]
    assert run["__typename"] == "Run"
    assert run["status"] == "FAILED"
    assert run["trigger"] == "SCHEDULED"
    assert run["error"] == "load: timeout writing s3://lake/raw/orders"
    assert run["durationSeconds"] == 720.0
    assert run["tags"] == ["retry-me"]
    assert run["metadata"] == {"host": "worker-1"}
    assert run["pipeline"] == {"name": "Ingest orders", "owners": ["data-eng@acme.io"]}
    assert run["source"] == {"name": "airflow-prod", "kind": "airflow"}
    task_runs = run["taskRuns"]["nodes"]
    assert run["taskRuns"]["totalCount"] == 3
    assert [(t["task"]["name"], t["attempt"], t["status"]) for t in task_runs] == [
        ("extract", 1, "SUCCESS"),
        ("load", 1, "FAILED"),
        ("load", 2, "FAILED"),
    ]
    assert task_runs[2]["logUrl"] == "https://airflow.example/log/load/2"
    assert task_runs[2]["durationSeconds"] == 240.0


def test_run_by_id_lists_what_it_touched(client: GraphQLClient) -> None:
    ident = _run_id(client, "dagster-prod", "d-100")
    run = client.operation("Run", {"id": ident})["run"]
    assert run["externalId"] == "d-100"
    events = {(e["kind"], e["asset"]["uri"], e["rowCount"]) for e in run["assetEvents"]}
    assert events == {("CONSUMED", RAW, None), ("PRODUCED", CLEAN, 1150)}


def test_run_that_does_not_exist_is_not_found(client: GraphQLClient) -> None:
    by_id = client.operation("Run", {"id": "999999"})["run"]
    assert by_id == {"__typename": "NotFound", "message": "no run 999999"}
    by_ext = client.operation("Run", {"source": "airflow-prod", "externalId": "nope"})["run"]
    assert by_ext["__typename"] == "NotFound"
    assert "'nope'" in by_ext["message"]


def test_task_runs_of_a_run_page_with_cursors(client: GraphQLClient) -> None:
    ident = _run_id(client, "airflow-prod", "ingest_orders/scheduled__0308")
    query = """query($id: ID, $after: String) { run(id: $id) { ... on Run {
        taskRuns(first: 2, after: $after) { pageInfo { hasNextPage endCursor }
                                            nodes { attempt task { name } } } } } }"""
    first = client.data(query, {"id": ident})["run"]["taskRuns"]
    assert [(t["task"]["name"], t["attempt"]) for t in first["nodes"]] == [
        ("extract", 1), ("load", 1),
    ]  # fmt: skip
    assert first["pageInfo"]["hasNextPage"] is True
    rest = client.data(query, {"id": ident, "after": first["pageInfo"]["endCursor"]})
    page = rest["run"]["taskRuns"]
    assert [(t["task"]["name"], t["attempt"]) for t in page["nodes"]] == [("load", 2)]
    assert page["pageInfo"]["hasNextPage"] is False


# -- the questions --------------------------------------------------------------------------------


def test_failed_runs_of_last_week_with_their_owners(client: GraphQLClient) -> None:
    failed = client.operation("FailedRuns")["failedRuns"]
    assert failed["totalCount"] == 3
    answer = [
        (r["externalId"], r["status"], r["pipeline"]["source"]["kind"], r["pipeline"]["owners"])
        for r in failed["nodes"]
    ]
    # The 20 February failure is older than a week before NOW (10 March, noon).
    assert answer == [
        ("d-101", "FAILED", "dagster", ["analytics@acme.io"]),
        ("export_reports/scheduled__0308", "UPSTREAM_FAILED", "airflow", ["bi@acme.io"]),
        ("ingest_orders/scheduled__0308", "FAILED", "airflow", ["data-eng@acme.io"]),
    ]
    # Who owns each run: its own owners first, then its pipeline's.
    assert [r["owners"] for r in failed["nodes"]] == [
        ["oncall@acme.io", "analytics@acme.io"],
        ["bi@acme.io"],
        ["data-eng@acme.io"],
    ]
    assert failed["nodes"][0]["error"] == "daily_revenue: division by zero"


def test_failed_runs_in_a_given_window(client: GraphQLClient) -> None:
    window = {"since": "2026-02-15T00:00:00Z", "until": "2026-03-01T00:00:00+01:00"}
    failed = client.operation("FailedRuns", window)["failedRuns"]
    assert [r["externalId"] for r in failed["nodes"]] == ["ingest_orders/scheduled__0220"]
    page = client.operation("FailedRuns", {"first": 2})["failedRuns"]
    assert page["pageInfo"]["hasNextPage"] is True
    rest = client.operation("FailedRuns", {"after": page["pageInfo"]["endCursor"]})["failedRuns"]
    assert [r["externalId"] for r in rest["nodes"]] == ["ingest_orders/scheduled__0308"]


def test_assets_with_every_tools_name_for_them(client: GraphQLClient) -> None:
    assets = client.operation("Assets")["assets"]
    assert assets["totalCount"] == 4
    by_uri = {a["uri"]: a for a in assets["nodes"]}
    aliases = {(a["source"]["name"], a["alias"]) for a in by_uri[RAW]["aliases"]}
    assert aliases == {("airflow-prod", RAW), ("dagster-prod", "lake/raw/orders")}
    assert by_uri[RAW]["tags"] == ["pii"]
    assert by_uri[RAW]["freshness"] == {
        "maxAgeSeconds": 172800.0, "lastProducedAt": "2026-03-09T02:10:00+00:00",
        "isStale": False,
    }  # fmt: skip
    assert by_uri[DASHBOARD]["freshness"]["maxAgeSeconds"] is None
    assert by_uri[DASHBOARD]["freshness"]["isStale"] is False

    def uris(f: dict[str, Any]) -> list[str]:
        return [a["uri"] for a in client.operation("Assets", {"filter": f})["assets"]["nodes"]]

    assert uris({"owner": "analytics@acme.io"}) == [CLEAN, REVENUE]
    assert uris({"uriPrefix": "s3://"}) == [RAW, CLEAN]
    assert uris({"search": "REVENUE"}) == [REVENUE]
    assert uris({"tag": "pii"}) == [RAW]


NAMED_CLEAN = [("dagster-prod", "lake/clean/orders", "the source's own name for it")]


def test_asset_with_freshness_events_and_checks(client: GraphQLClient) -> None:
    asset = client.operation("Asset", {"uri": CLEAN})["asset"]
    assert asset["__typename"] == "Asset"
    assert asset["owners"] == ["analytics@acme.io"]
    assert asset["freshness"] == {
        "maxAgeSeconds": 21600.0,
        "lastProducedAt": "2026-03-09T06:03:00+00:00",
        "staleAfter": "2026-03-09T12:03:00+00:00",
        "isStale": True,
    }
    assert asset["events"]["totalCount"] == 1
    (event,) = asset["events"]["nodes"]
    assert event["kind"] == "PRODUCED"
    assert event["rowCount"] == 1150
    assert event["run"] == {"externalId": "d-100", "status": "SUCCESS",
                            "pipeline": {"name": "orders_job"}}  # fmt: skip
    checks = {(c["name"], c["passed"], c["severity"]) for c in asset["checks"]["nodes"]}
    assert checks == {("row_count_positive", True, None), ("no_null_ids", False, "error")}
    # Dagster's key for it is its own name: no reason to give.
    assert [(a["alias"], a["reason"]) for a in asset["aliases"]] == [("lake/clean/orders", None)]
    named = [(n["source"]["name"], n["name"], n["reason"]) for n in asset["namedBy"]]
    assert named == NAMED_CLEAN


def test_an_asset_found_by_another_spelling_says_why_the_names_differ(
    client: GraphQLClient, catalog: Catalog
) -> None:
    spark = catalog.store.ensure_source("spark", "openlineage")
    spelled = AssetRecord("S3A://lake/clean/orders/")
    catalog.store.write_batch(spark, Batch(cursor={}, assets=(spelled,)))
    asset = client.operation("Asset", {"uri": "s3n://LAKE/clean/orders"})["asset"]
    assert asset["uri"] == CLEAN
    aliases = {(a["source"]["name"], a["alias"], a["reason"]) for a in asset["aliases"]}
    assert ("spark", "S3A://lake/clean/orders/", "canonical spelling") in aliases
    named = [(n["source"]["name"], n["name"], n["reason"]) for n in asset["namedBy"]]
    assert named == [*NAMED_CLEAN, ("spark", "S3A://lake/clean/orders/", "canonical spelling")]


def test_an_asset_says_which_sources_know_it_and_why(client: GraphQLClient) -> None:
    asset = client.operation("Asset", {"uri": RAW})["asset"]
    named = {(n["source"]["kind"], n["name"], n["reason"]) for n in asset["namedBy"]}
    # Airflow wrote this very identity; Dagster knows it by its own key.
    assert named == {
        ("airflow", RAW, "same canonical identity"),
        ("dagster", "lake/raw/orders", "the source's own name for it"),
    }


def test_asset_that_does_not_exist_is_not_found(client: GraphQLClient) -> None:
    missing = client.operation("Asset", {"uri": "s3://lake/nope"})["asset"]
    assert missing == {"__typename": "NotFound", "message": "no asset 's3://lake/nope'"}


def test_events_of_an_asset_page_newest_first(client: GraphQLClient) -> None:
    query = """query($uri: String!, $after: String) { asset(uri: $uri) { ... on Asset {
        events(first: 2, after: $after) { totalCount pageInfo { hasNextPage endCursor }
                                          nodes { kind at } } } } }"""
    first = client.data(query, {"uri": RAW})["asset"]["events"]
    assert first["totalCount"] == 3
    assert [(e["kind"], e["at"][:16]) for e in first["nodes"]] == [
        ("CONSUMED", "2026-03-09T06:00"), ("PRODUCED", "2026-03-09T02:10"),
    ]  # fmt: skip
    after = first["pageInfo"]["endCursor"]
    rest = client.data(query, {"uri": RAW, "after": after})["asset"]["events"]
    assert [(e["kind"], e["at"][:16]) for e in rest["nodes"]] == [("PRODUCED", "2026-03-05T02:10")]
    assert rest["pageInfo"]["hasNextPage"] is False


def test_stale_assets_now_never_produced_first(client: GraphQLClient) -> None:
    stale = client.operation("StaleAssets")["staleAssets"]
    assert stale["totalCount"] == 2
    assert [a["uri"] for a in stale["nodes"]] == [REVENUE, CLEAN]
    revenue, clean = stale["nodes"]
    assert revenue["freshness"]["lastProducedAt"] is None
    assert revenue["owners"] == ["analytics@acme.io", "cfo@acme.io"]
    assert clean["freshness"]["staleAfter"] == "2026-03-09T12:03:00+00:00"


def test_stale_assets_at_another_moment(client: GraphQLClient) -> None:
    def uris(at: str) -> list[str]:
        return [
            a["uri"] for a in client.operation("StaleAssets", {"at": at})["staleAssets"]["nodes"]
        ]

    assert uris("2026-03-09T10:00:00Z") == [REVENUE]
    assert uris("2026-03-12T00:00:00Z") == [REVENUE, CLEAN, RAW]


def test_lineage_downstream_crosses_tools_within_the_depth_bound(client: GraphQLClient) -> None:
    graph = client.operation("Lineage", {"node": {"asset": RAW}, "depth": 3})["lineage"]
    assert graph["__typename"] == "LineageGraph"
    depths = {_entity(n): n["depth"] for n in graph["nodes"]}
    assert depths == {RAW: 0, "clean_orders": 1, CLEAN: 2, "daily_revenue": 2, REVENUE: 3}
    raw = next(n for n in graph["nodes"] if n["depth"] == 0)
    assert raw["sources"] == ["airflow-prod", "dagster-prod"]
    assert raw["tools"] == ["airflow", "dagster"]
    ids = {n["id"] for n in graph["nodes"]}
    edges = {(e["upstream"]["id"], e["downstream"]["id"]) for e in graph["edges"]}
    assert edges
    assert all(u in ids and d in ids for u, d in edges)
    assert all(e["origins"] == ["DECLARED"] for e in graph["edges"])

    # The estate's edges were first seen when it was written: before that, RAW stood alone.
    before = {"node": {"asset": RAW}, "asOf": "2000-01-01T00:00:00Z"}
    then = client.operation("Lineage", before)["lineage"]
    assert [_entity(n) for n in then["nodes"]] == [RAW]
    assert then["edges"] == []

    further = client.operation("Lineage", {"node": {"asset": RAW}})["lineage"]  # depth 5
    assert {_entity(n): n["depth"] for n in further["nodes"]}[DASHBOARD] == 5
    pipeline = next(n for n in further["nodes"] if n["kind"] == "PIPELINE")
    assert (_entity(pipeline), pipeline["sources"]) == ("Export reports", ["airflow-prod"])


def test_lineage_upstream_from_a_pipeline_and_a_task(client: GraphQLClient) -> None:
    export = _pipeline_id(client, "export_reports")
    up = client.operation(
        "Lineage", {"node": {"pipeline": export}, "direction": "UPSTREAM", "depth": 50}
    )["lineage"]
    reached = {_entity(n) for n in up["nodes"]}
    assert {
        "Export reports",
        REVENUE,
        "daily_revenue",
        CLEAN,
        RAW,
        "load",
        "Ingest orders",
    } <= reached
    assert DASHBOARD not in reached

    tasks = client.data(
        '{ pipelines(filter: {search: "orders_job"}) { nodes { tasks { id name } } } }'
    )
    clean_task = next(
        t["id"] for t in tasks["pipelines"]["nodes"][0]["tasks"] if t["name"] == "clean_orders"
    )
    both = client.operation(
        "Lineage", {"node": {"task": clean_task}, "direction": "BOTH", "depth": 1}
    )["lineage"]
    assert {_entity(n) for n in both["nodes"]} == {"clean_orders", RAW, CLEAN, "daily_revenue"}
    task = next(n for n in both["nodes"] if n["depth"] == 0)
    assert task["entity"]["pipeline"] == {"name": "orders_job"}


def test_lineage_of_an_unknown_node_is_not_found(client: GraphQLClient) -> None:
    for node, message in [
        ({"asset": "s3://lake/nope"}, "no asset 's3://lake/nope' in the catalog"),
        ({"pipeline": "999999"}, "no pipeline 999999 in the catalog"),
        ({"task": "999999"}, "no task 999999 in the catalog"),
    ]:
        found = client.operation("Lineage", {"node": node})["lineage"]
        assert found == {"__typename": "NotFound", "message": message}


def test_impact_of_a_failed_run_reaches_other_tools(client: GraphQLClient) -> None:
    failed = _run_id(client, "airflow-prod", "ingest_orders/scheduled__0308")
    impact = client.operation("Impact", {"run": failed})["impact"]
    assert impact["__typename"] == "Impact"
    assert impact["run"]["status"] == "FAILED"
    assert impact["outputs"] == [{"produced": False, "asset": {"uri": RAW}}]
    downstream = impact["downstream"]
    assert [(_entity(a), a["depth"]) for a in downstream["assets"]] == [
        (RAW, 0), (CLEAN, 2), (REVENUE, 3), (DASHBOARD, 5),
    ]  # fmt: skip
    assert {(_entity(t), tuple(t["sources"])) for t in downstream["tasks"]} == {
        ("clean_orders", ("dagster-prod",)), ("daily_revenue", ("dagster-prod",)),
    }  # fmt: skip
    (export,) = downstream["pipelines"]
    assert export["entity"] == {"name": "Export reports", "owners": ["bi@acme.io"]}


def test_impact_lists_missing_outputs_and_depth_bounds_it(client: GraphQLClient) -> None:
    failed = _run_id(client, "dagster-prod", "d-101")
    impact = client.operation("Impact", {"run": failed, "depth": 1})["impact"]
    assert impact["outputs"] == [
        {"produced": False, "asset": {"uri": CLEAN}},
        {"produced": False, "asset": {"uri": REVENUE}},
    ]
    assert [_entity(p) for p in impact["downstream"]["pipelines"]] == ["Export reports"]
    assert DASHBOARD not in {_entity(a) for a in impact["downstream"]["assets"]}

    succeeded = _run_id(client, "airflow-prod", "ingest_orders/manual__0309")
    outputs = client.operation("Impact", {"run": succeeded})["impact"]["outputs"]
    assert outputs == [{"produced": True, "asset": {"uri": RAW}}]


def test_impact_of_an_unknown_run_is_not_found(client: GraphQLClient) -> None:
    missing = client.operation("Impact", {"run": "999999"})["impact"]
    assert missing == {"__typename": "NotFound", "message": "no run 999999"}


def test_produced_between_an_incident_window(client: GraphQLClient) -> None:
    window = {"start": "2026-03-09T00:00:00Z", "end": "2026-03-09T12:00:00Z"}
    produced = client.operation("ProducedBetween", window)["producedBetween"]
    assert produced["totalCount"] == 2
    answer = [
        (e["asset"]["uri"], e["rowCount"], e["source"]["name"], e["run"]["externalId"])
        for e in produced["nodes"]
    ]
    assert answer == [
        (CLEAN, 1150, "dagster-prod", "d-100"),
        (RAW, 1200, "airflow-prod", "ingest_orders/manual__0309"),
    ]
    first = client.operation("ProducedBetween", {**window, "first": 1})["producedBetween"]
    assert first["pageInfo"]["hasNextPage"] is True
    after = first["pageInfo"]["endCursor"]
    rest = client.operation("ProducedBetween", {**window, "after": after})["producedBetween"]
    assert [e["asset"]["uri"] for e in rest["nodes"]] == [RAW]

    # Produced with no run the catalog knows: the event stands on its own.
    earlier = {"start": "2026-03-05T00:00:00Z", "end": "2026-03-06T00:00:00Z"}
    (event,) = client.operation("ProducedBetween", earlier)["producedBetween"]["nodes"]
    assert (event["asset"]["uri"], event["run"]) == (RAW, None)


def test_checks_of_an_asset_page_through_equal_timestamps(client: GraphQLClient) -> None:
    # Both checks ran at 06:04: the cursor's id must break the tie on both databases.
    query = """query($uri: String!, $after: String) { asset(uri: $uri) { ... on Asset {
        checks(first: 1, after: $after) { totalCount pageInfo { hasNextPage endCursor }
                                          nodes { name } } } } }"""
    first = client.data(query, {"uri": CLEAN})["asset"]["checks"]
    after = first["pageInfo"]["endCursor"]
    rest = client.data(query, {"uri": CLEAN, "after": after})["asset"]["checks"]
    assert first["totalCount"] == 2
    assert first["pageInfo"]["hasNextPage"] is True
    assert rest["pageInfo"]["hasNextPage"] is False
    names = [c["name"] for c in first["nodes"] + rest["nodes"]]
    assert sorted(names) == ["no_null_ids", "row_count_positive"]


def test_slower_tasks_name_the_task_its_pipeline_and_owners(
    client: GraphQLClient, catalog: Catalog
) -> None:
    assert client.operation("SlowerTasks")["slowerTasks"] == []  # the estate holds no trend
    store = catalog.store
    store.write_batch(store.ensure_source("airflow-nightly", "airflow"), slowing_batch())
    found = client.operation("SlowerTasks", {"recent": 3, "baseline": 5})["slowerTasks"]
    assert found == [
        {
            "ratio": 1.7,
            "recentRuns": 3,
            "recentMedianSeconds": 170.0,
            "baselineRuns": 5,
            "baselineMedianSeconds": 100.0,
            "task": {
                "name": "load",
                "uiUrl": None,
                "pipeline": {
                    "name": "nightly",
                    "owners": ["data-eng@acme.io"],
                    "source": {"name": "airflow-nightly", "kind": "airflow"},
                },
            },
        }
    ]
    errors = client.errors(
        "{ slowerTasks(recent: 0) { ratio } }",
    )
    assert "argument 'recent': must be between 1 and 1000, got 0" in errors[0]["message"]


# -- linking assets by hand -----------------------------------------------------------------------

WAREHOUSE_ORDERS = "postgres://db:5432/shop.public.orders"


def test_likely_matches_are_linked_by_hand_and_lineage_crosses(
    client: GraphQLClient, catalog: Catalog
) -> None:
    # A warehouse table named like the lake's orders, read by a report, from a third tool.
    spark = catalog.store.ensure_source("spark", "openlineage")
    reads = EdgeRecord(NodeRef.asset(WAREHOUSE_ORDERS), NodeRef.asset("s3://reports/orders"))
    catalog.store.write_batch(spark, Batch(cursor={}, edges=(reads,)))
    found = client.operation("LikelyMatches")["likelyMatches"]
    pairs = {(m["name"], m["asset"]["uri"], m["other"]["uri"]) for m in found}
    assert ("orders", RAW, WAREHOUSE_ORDERS) in pairs
    assert ("orders", RAW, CLEAN) not in pairs  # one bucket: two datasets, not a match

    variables = {"uri": RAW, "other": WAREHOUSE_ORDERS, "note": "loaded nightly"}
    link = client.operation("LinkAssets", variables)["linkAssets"]
    # An open server's client: who linked them is "anonymous", whatever it might claim.
    assert (link["reason"], link["linkedBy"], link["note"]) == (
        "manual",
        "anonymous",
        "loaded nightly",
    )
    assert link["other"]["uri"] == WAREHOUSE_ORDERS
    assert link["linkedAt"] == NOW.isoformat()
    found = client.operation("LikelyMatches")["likelyMatches"]
    assert ("orders", RAW, WAREHOUSE_ORDERS) not in {
        (m["name"], m["asset"]["uri"], m["other"]["uri"]) for m in found
    }
    graph = client.operation("Lineage", {"node": {"asset": RAW}, "depth": 2})["lineage"]
    assert "s3://reports/orders" in {_entity(n) for n in graph["nodes"]}
    linked = [e for e in graph["edges"] if e["origins"] == ["LINKED"]]
    assert linked  # both ways
    # No orchestrator reported a hand link: its source is who made it.
    assert all(e["sources"] == ["anonymous"] for e in linked)

    undone = client.operation("UnlinkAssets", {"uri": WAREHOUSE_ORDERS, "other": RAW})
    assert undone == {"unlinkAssets": True}
    graph = client.operation("Lineage", {"node": {"asset": RAW}, "depth": 2})["lineage"]
    assert "s3://reports/orders" not in {_entity(n) for n in graph["nodes"]}


def test_a_link_that_cannot_be_made_is_an_error_naming_the_argument(
    client: GraphQLClient,
) -> None:
    body = client.post(
        (OPERATIONS / "LinkAssets.graphql").read_text(),
        {"uri": RAW, "other": "s3://nowhere/x"},
    )
    [error] = body["errors"]
    assert error["message"] == "argument 'other': no asset 's3://nowhere/x' in the catalog"
    assert error["extensions"]["argument"] == "other"


def test_tokens_and_the_audit_log_through_their_operations(client: GraphQLClient) -> None:
    # The anonymous client of an open server may do everything, and is recorded as such.
    viewer = client.operation("Viewer")["viewer"]
    assert viewer == {
        "name": "anonymous",
        "authenticated": False,
        "scopes": ["READ", "INGEST", "WRITE", "ADMIN"],
        "authRequired": False,
    }
    made = client.operation(
        "CreateToken", {"name": "ci", "scopes": ["READ", "INGEST"], "expiresIn": "30d"}
    )["createToken"]
    assert made["token"].startswith("tpx_")
    assert made["apiToken"]["name"] == "ci"
    assert made["apiToken"]["scopes"] == ["READ", "INGEST"]
    assert made["apiToken"]["createdBy"] == "anonymous"
    assert made["apiToken"]["expiresAt"] == (NOW + timedelta(days=30)).isoformat()
    listed = client.operation("Tokens")["tokens"]
    assert [(t["name"], t["lastUsedAt"], t["revokedAt"]) for t in listed] == [("ci", None, None)]
    assert made["token"] not in str(listed)

    revoked = client.operation("RevokeToken", {"name": "ci"})["revokeToken"]
    assert (revoked["name"], revoked["revokedAt"], revoked["revokedBy"]) == (
        "ci",
        NOW.isoformat(),
        "anonymous",
    )
    assert client.operation("Tokens")["tokens"] == []  # a repeated query sees the change
    assert len(client.operation("Tokens", {"includeRevoked": True})["tokens"]) == 1
    [error] = client.errors((OPERATIONS / "RevokeToken.graphql").read_text(), {"name": "ci"})
    assert error["message"] == "no active token named 'ci'"

    log = client.operation("AuditLog")["auditLog"]
    assert log["totalCount"] == 2
    assert [(n["principal"], n["action"], n["target"]) for n in log["nodes"]] == [
        ("anonymous", "token.revoke", "ci"),
        ("anonymous", "token.create", "ci"),
    ]
    first = client.operation("AuditLog", {"first": 1, "action": "token.create"})["auditLog"]
    assert first["nodes"][0]["detail"]["scopes"] == ["ingest", "read"]
    assert first["pageInfo"]["hasNextPage"] is False


def test_a_token_that_cannot_be_made_names_the_argument(client: GraphQLClient) -> None:
    document = (OPERATIONS / "CreateToken.graphql").read_text()
    [error] = client.errors(document, {"name": "ci", "scopes": ["READ"], "expiresIn": "soon"})
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": "expiresIn"}
    [error] = client.errors(document, {"name": "two words", "scopes": ["READ"]})
    assert error["extensions"]["argument"] == "name"
    [error] = client.errors(document, {"name": "ci", "scopes": []})
    assert error["message"] == "argument 'scope': give at least one scope"
