"""OpenLineage as real producers send it, through POST /api/v1/lineage and read back through
GraphQL: failing checks on FAIL and RUNNING, JobEvents, flagged facets, ``parent`` on START only,
symlinks, the descriptive facets and repeated deliveries. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from api.app import create_app
from catalog.service import Catalog
from catalog.store import tables as t
from catalog.store.store import Store
from tests.api.conftest import GraphQLClient

URL = "/api/v1/lineage"
RUN = "0193a0b6-2a8e-7c6e-9b1a-3f1c1f0e9a01"
DAG_RUN = "0193a0b6-2a8e-7c6e-9b1a-3f1c1f0e9a02"
P = {"_producer": "https://example.com/p", "_schemaURL": "https://example.com/s"}


def event(kind: str, at: str, run: str = RUN, job: str = "job", **extra: Any) -> dict[str, Any]:
    return {
        "eventType": kind,
        "eventTime": at,
        "producer": "https://example.com/producer",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": run, "facets": {}},
        "job": {"namespace": "ns", "name": job},
        "inputs": [],
        "outputs": [],
        **extra,
    }


@pytest.fixture
def http(store: Store) -> Iterator[TestClient]:
    with TestClient(create_app(catalog=Catalog(store))) as c:
        yield c


@pytest.fixture
def gql(http: TestClient) -> GraphQLClient:
    return GraphQLClient(http)


def post(http: TestClient, body: Any) -> dict[str, Any]:
    response = http.post(URL, json=body)
    assert response.status_code == 201, response.text
    answer: dict[str, Any] = response.json()
    return answer


def count(store: Store, model: type[Any]) -> int:
    with store.session() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


CHECKS = """query($uri: String!) { asset(uri: $uri) { __typename ... on Asset {
  uri checks { nodes { name passed severity run { externalId status } } } } } }"""


@pytest.mark.parametrize("kind", ["FAIL", "RUNNING", "COMPLETE"])
def test_assertions_on_any_event_are_checks_and_failures_show(
    http: TestClient, gql: GraphQLClient, kind: str
) -> None:
    # How dbt-ol reports a failing test: a FAIL event, the assertion on the tested model.
    assertions = {
        **P,
        "assertions": [
            {"assertion": "not_null", "success": False, "column": "id", "severity": "error"},
            {"assertion": "unique", "success": True, "column": "id", "name": "unique_orders_id"},
        ],
    }
    model = {
        "namespace": "postgres://db:5432",
        "name": "shop.public.orders",
        "inputFacets": {"dataQualityAssertions": assertions},
        "facets": {"dataQualityAssertions": assertions},  # dbt-ol sends both; one check each
    }
    post(http, event("START", "2024-05-01T10:00:00Z"))
    post(http, event(kind, "2024-05-01T10:01:00Z", inputs=[model]))
    asset = gql.data(CHECKS, {"uri": "postgres://db:5432/shop.public.orders"})["asset"]
    checks = sorted(asset["checks"]["nodes"], key=lambda c: c["name"])
    assert [(c["name"], c["passed"], c["severity"]) for c in checks] == [
        ("not_null(id)", False, "error"),
        ("unique_orders_id", True, None),
    ]
    assert {c["run"]["externalId"] for c in checks} == {RUN}


def test_a_job_event_with_an_event_type_is_accepted(http: TestClient, store: Store) -> None:
    job_event = {
        "eventType": "COMPLETE",  # a JobEvent has none, but Marquez accepts it
        "eventTime": "2024-05-01T10:00:00Z",
        "producer": "https://example.com/producer",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/JobEvent",
        "job": {"namespace": "ns", "name": "static"},
        "inputs": [{"namespace": "s3://lake", "name": "in"}],
        "outputs": [{"namespace": "s3://lake", "name": "out"}],
    }
    assert post(http, job_event)["stored"] == 1
    assert count(store, t.Run) == 0
    with store.session() as s:
        assert [p.external_id for p in s.scalars(select(t.Pipeline))] == ["ns:static"]
    assert count(store, t.LineageEdge) == 2


def test_an_incomplete_facet_is_kept_flagged_and_the_rest_is_read(
    http: TestClient, store: Store
) -> None:
    e = event("COMPLETE", "2024-05-01T10:00:00Z")
    e["inputs"] = [
        {
            "namespace": "s3://lake",
            "name": "in",
            "inputFacets": {
                "dataQualityMetrics": {**P, "rowCount": 1000},  # no columnMetrics
                "dataQualityAssertions": {**P, "assertions": [{"assertion": "a", "success": True}]},
            },
        }
    ]
    answer = post(http, e)
    assert answer["stored"] == 1
    (warning,) = answer["warnings"]
    assert warning.startswith(
        "inputs[0].inputFacets.dataQualityMetrics.columnMetrics: required field is missing"
    )
    with store.session() as s:
        (stored,) = s.scalars(select(t.LineageEvent))
        (consumed,) = s.scalars(select(t.AssetEvent))
        (check,) = s.scalars(select(t.CheckResult))
    assert stored.warnings == [warning]
    assert stored.payload["inputs"][0]["inputFacets"]["dataQualityMetrics"]["rowCount"] == 1000
    assert consumed.row_count is None  # the flagged facet is not read
    assert check.passed  # the valid facet next to it is


def test_a_broken_event_is_still_refused(http: TestClient, store: Store) -> None:
    e = event("START", "2024-05-01T10:00:00Z")
    e["run"]["facets"]["parent"] = {**P, "run": {}, "job": {"namespace": "ns", "name": "dag"}}
    response = http.post(URL, json=e)
    assert response.status_code == 400
    assert response.json()["error"].startswith("run.facets.parent.run.runId: required field")
    assert count(store, t.LineageEvent) == 0


def test_parent_sent_only_on_start_keeps_one_run(
    http: TestClient, store: Store, gql: GraphQLClient
) -> None:
    parent = {
        **P,
        "run": {"runId": DAG_RUN},
        "job": {"namespace": "ns", "name": "dag"},
    }
    start = event("START", "2024-05-01T10:00:00Z", job="dag.task")
    start["run"]["facets"]["parent"] = parent
    post(http, event("START", "2024-05-01T09:59:00Z", run=DAG_RUN, job="dag"))
    post(http, start)
    post(http, event("COMPLETE", "2024-05-01T10:05:00Z", job="dag.task"))  # no parent
    post(http, event("COMPLETE", "2024-05-01T10:06:00Z", run=DAG_RUN, job="dag"))
    with store.session() as s:
        assert sorted(p.external_id for p in s.scalars(select(t.Pipeline))) == ["ns:dag"]
        (run,) = s.scalars(select(t.Run))
        (task_run,) = s.scalars(select(t.TaskRun))
    assert (run.external_id, run.status) == (DAG_RUN, "success")
    assert (task_run.external_id, task_run.status, task_run.duration_s) == (RUN, "success", 300)


def test_the_first_event_decides_even_in_one_request(http: TestClient, store: Store) -> None:
    start = event("START", "2024-05-01T10:00:00Z", job="dag.task")
    start["run"]["facets"]["parent"] = {
        **P,
        "run": {"runId": DAG_RUN},
        "job": {"namespace": "ns", "name": "dag"},
    }
    post(http, [start, event("FAIL", "2024-05-01T10:05:00Z", job="dag.task")])
    with store.session() as s:
        assert [p.external_id for p in s.scalars(select(t.Pipeline))] == ["ns:dag"]
        (task_run,) = s.scalars(select(t.TaskRun))
    assert task_run.status == "failed"


SYMLINKED = {
    "namespace": "s3://warehouse",
    "name": "db.db/orders",
    "facets": {
        "symlinks": {
            **P,
            "identifiers": [
                {"namespace": "hive://metastore", "name": "db.orders", "type": "TABLE"}
            ],
        }
    },
}


def test_a_symlink_finds_the_asset_and_a_reader_by_it_links_to_it(
    http: TestClient, store: Store, gql: GraphQLClient
) -> None:
    post(http, event("COMPLETE", "2024-05-01T10:00:00Z", job="writer", outputs=[SYMLINKED]))
    found = gql.data(CHECKS, {"uri": "hive://metastore/db.orders"})["asset"]
    assert (found["__typename"], found["uri"]) == ("Asset", "s3://warehouse/db.db/orders")
    reader = event(
        "COMPLETE",
        "2024-05-01T11:00:00Z",
        run="0193a0b6-2a8e-7c6e-9b1a-3f1c1f0e9a03",
        job="reader",
        inputs=[{"namespace": "hive://metastore", "name": "db.orders"}],
    )
    post(http, reader)
    with store.session() as s:
        assert [a.uri for a in s.scalars(select(t.Asset))] == ["s3://warehouse/db.db/orders"]
        aliases = [(a.alias, a.reason) for a in s.scalars(select(t.AssetAlias))]
    assert aliases == [("hive://metastore/db.orders", "symlink")]
    lineage = gql.data(
        """{ lineage(node: {asset: "s3://warehouse/db.db/orders"}, direction: BOTH) {
        ... on LineageGraph { nodes { entity { ... on Pipeline { externalId } } } } } }"""
    )["lineage"]
    jobs = {n["entity"].get("externalId") for n in lineage["nodes"]} - {None}
    assert jobs == {"ns:writer", "ns:reader"}


def test_a_reader_by_a_symlink_before_it_was_declared_is_linked(
    http: TestClient, store: Store, gql: GraphQLClient
) -> None:
    reader = event(
        "COMPLETE",
        "2024-05-01T09:00:00Z",
        run="0193a0b6-2a8e-7c6e-9b1a-3f1c1f0e9a03",
        job="reader",
        inputs=[{"namespace": "hive://metastore", "name": "db.orders"}],
    )
    post(http, reader)
    post(http, event("COMPLETE", "2024-05-01T10:00:00Z", job="writer", outputs=[SYMLINKED]))
    with store.session() as s:
        (link,) = s.scalars(select(t.AssetLink))
    assert (link.reason, link.linked_by) == ("symlink", "source openlineage")
    lineage = gql.data(
        """{ lineage(node: {asset: "s3://warehouse/db.db/orders"}, direction: BOTH) {
        ... on LineageGraph { nodes { entity { ... on Pipeline { externalId } } } } } }"""
    )["lineage"]
    jobs = {n["entity"].get("externalId") for n in lineage["nodes"]} - {None}
    assert jobs == {"ns:writer", "ns:reader"}
    # Declared again: nothing new.
    assert (
        post(http, event("COMPLETE", "2024-05-01T10:00:00Z", job="writer", outputs=[SYMLINKED]))[
            "duplicates"
        ]
        == 1
    )
    assert count(store, t.AssetLink) == 1


PIPELINES = """{ pipelines { nodes { externalId description owners tags processingType } } }"""


def test_ownership_documentation_tags_and_types_describe_pipelines_and_assets(
    http: TestClient, store: Store, gql: GraphQLClient
) -> None:
    start = event("START", "2024-05-01T10:00:00Z", job="stream")
    start["job"]["facets"] = {
        "jobType": {**P, "processingType": "STREAMING", "integration": "FLINK", "jobType": "JOB"},
        "ownership": {**P, "owners": [{"name": "team:data", "type": "MAINTAINER"}]},
        "documentation": {**P, "description": "Orders, as they come."},
        "tags": {**P, "tags": [{"key": "tier", "value": "gold", "source": "USER"}]},
    }
    start["run"]["facets"]["tags"] = {**P, "tags": [{"key": "nightly", "value": "true"}]}
    start["outputs"] = [
        {
            "namespace": "kafka://broker:9092",
            "name": "orders",
            "facets": {
                "ownership": {**P, "owners": [{"name": "user:jdoe"}]},
                "documentation": {**P, "description": "Every order."},
                "datasetType": {**P, "datasetType": "STREAM"},
                "tags": {
                    **P,
                    "tags": [
                        {"key": "pii", "value": "true"},
                        {"key": "pii", "value": "email", "field": "email"},  # a column's
                    ],
                },
            },
        }
    ]
    post(http, start)
    # A later event states none of it: nothing is forgotten.
    post(http, event("RUNNING", "2024-05-01T10:30:00Z", job="stream"))
    (pipeline,) = gql.data(PIPELINES)["pipelines"]["nodes"]
    assert pipeline == {
        "externalId": "ns:stream",
        "description": "Orders, as they come.",
        "owners": ["team:data"],
        "tags": ["tier=gold"],
        "processingType": "streaming",
    }
    asset = gql.data(
        """{ asset(uri: "kafka://broker:9092/orders") { ... on Asset {
        kind description owners tags } } }"""
    )["asset"]
    assert asset == {
        "kind": "stream",
        "description": "Every order.",
        "owners": ["user:jdoe"],
        "tags": ["pii"],
    }
    with store.session() as s:
        (tag,) = s.scalars(select(t.Tag).where(t.Tag.entity_kind == "run"))  # type: ignore[arg-type]
    assert tag.tag == "nightly"


def test_test_outcomes_dependencies_and_last_updated(
    http: TestClient, store: Store, gql: GraphQLClient
) -> None:
    e = event("FAIL", "2024-05-01T10:00:00Z", job="model.test")
    e["run"]["facets"]["test"] = {
        **P,
        "tests": [
            {"name": "assert_no_orphans", "status": "fail", "severity": "error"},
            {"name": "assert_positive", "status": "pass"},
            {"name": "assert_later", "status": "skip"},
        ],
    }
    e["run"]["facets"]["jobDependencies"] = {
        **P,
        "upstream": [{"job": {"namespace": "ns", "name": "load_orders"}}],
        "downstream": [{"job": {"namespace": "ns", "name": "publish"}}],
    }
    e["inputs"] = [
        {
            "namespace": "s3://lake",
            "name": "orders",
            "facets": {
                "dataQualityMetrics": {
                    **P,
                    "rowCount": 12,
                    "columnMetrics": {},
                    "lastUpdated": "2024-05-01T08:00:00Z",
                }
            },
        }
    ]
    post(http, e)
    asset = gql.data(CHECKS, {"uri": "s3://lake/orders"})["asset"]
    got = sorted((c["name"], c["passed"]) for c in asset["checks"]["nodes"])
    assert got == [("assert_no_orphans", False), ("assert_positive", True)]
    with store.session() as s:
        pipelines = {p.id: p.external_id for p in s.scalars(select(t.Pipeline))}
        edges = {
            (pipelines[x.from_id], pipelines[x.to_id], x.origin)
            for x in s.scalars(select(t.LineageEdge))
            if x.from_kind == x.to_kind == "pipeline"
        }
        (observed,) = s.scalars(select(t.AssetEvent))
    assert edges == {
        ("ns:load_orders", "ns:model.test", "declared"),
        ("ns:model.test", "ns:publish", "declared"),
    }
    assert (observed.kind, observed.at.isoformat(), observed.row_count) == (
        "observed",
        "2024-05-01T08:00:00+00:00",
        12,
    )


def test_a_repeated_delivery_is_answered_and_writes_nothing(http: TestClient, store: Store) -> None:
    e = event("COMPLETE", "2024-05-01T10:00:00Z")
    e["outputs"] = [
        {
            "namespace": "s3://lake",
            "name": "out",
            "outputFacets": {"outputStatistics": {**P, "rowCount": 3}},
            "facets": {
                "dataQualityAssertions": {**P, "assertions": [{"assertion": "a", "success": False}]}
            },
        }
    ]
    assert post(http, [e, e]) == {"stored": 1, "duplicates": 1, "warnings": []}
    version = Catalog(store).store.version("data_version")
    tables = {m.__name__: count(store, m) for m in (t.LineageEvent, t.AssetEvent, t.CheckResult)}
    # The same event again, its time spelled another way (the same instant).
    again = dict(e, eventTime="2024-05-01T12:00:00+02:00")
    assert post(http, again) == {"stored": 0, "duplicates": 1, "warnings": []}
    assert {m.__name__: count(store, m) for m in (t.LineageEvent, t.AssetEvent, t.CheckResult)} == (
        tables
    )
    assert tables == {"LineageEvent": 1, "AssetEvent": 1, "CheckResult": 1}
    assert Catalog(store).store.version("data_version") == version
    # Another type or time of the same run is another event.
    assert post(http, event("RUNNING", "2024-05-01T10:00:00Z"))["stored"] == 1


def _produced(store: Store) -> list[tuple[str, str]]:
    with store.session() as s:
        assets = {a.id: a.uri for a in s.scalars(select(t.Asset))}
        return sorted(
            (assets[e.asset_id], e.at.isoformat())
            for e in s.scalars(select(t.AssetEvent))
            if e.kind == "produced"
        )


@pytest.mark.parametrize("one_request", [False, True])
def test_a_complete_records_what_all_the_runs_events_named(
    http: TestClient, store: Store, one_request: bool
) -> None:
    # Events of a run are accumulative: an output named on RUNNING only was written too.
    out = {"namespace": "s3://lake", "name": "early"}
    running = event("RUNNING", "2024-05-01T10:00:00Z", outputs=[out])
    complete = event("COMPLETE", "2024-05-01T10:05:00Z", outputs=[dict(out, name="late")])
    if one_request:
        post(http, [running, complete])
    else:
        post(http, running)
        assert _produced(store) == []
        post(http, complete)
    assert _produced(store) == [
        ("s3://lake/early", "2024-05-01T10:05:00+00:00"),
        ("s3://lake/late", "2024-05-01T10:05:00+00:00"),
    ]


def test_a_streaming_job_records_each_window(http: TestClient, store: Store) -> None:
    job_type = {**P, "processingType": "STREAMING", "integration": "FLINK", "jobType": "JOB"}
    for at in ("2024-05-01T10:00:00Z", "2024-05-01T10:05:00Z"):
        e = event(
            "RUNNING", at, job="flink", outputs=[{"namespace": "kafka://b:9092", "name": "t"}]
        )
        e["job"]["facets"] = {"jobType": job_type}
        post(http, e)
    assert _produced(store) == [
        ("kafka://b:9092/t", "2024-05-01T10:00:00+00:00"),
        ("kafka://b:9092/t", "2024-05-01T10:05:00+00:00"),
    ]
    with store.session() as s:
        (run,) = s.scalars(select(t.Run))
    assert run.status == "running"
