"""No N+1: the SQL a query costs does not grow with the number of rows it returns."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event
from starlette.testclient import TestClient

from api.app import create_app
from catalog.enums import AssetEventKind, RunStatus
from catalog.records import (
    AssetEventRecord,
    AssetRecord,
    Batch,
    CheckResultRecord,
    PipelineRecord,
    RunRecord,
    TaskRecord,
    TaskRunRecord,
)
from catalog.service import Catalog
from catalog.store.store import Store
from tests.api.conftest import GraphQLClient
from tests.api.estate import NOW

PIPELINES = 25
RUNS = 50  # two per pipeline


def _wide_batch(source: int) -> Batch:
    pipelines = [f"p{source}-{i}" for i in range(PIPELINES)]
    runs = [(p, f"{p}/run-{n}") for p in pipelines for n in range(RUNS // PIPELINES)]
    start = NOW - timedelta(days=1)
    return Batch(
        cursor={},
        pipelines=tuple(
            PipelineRecord(p, p, owners=(f"owner-{i % 7}", "team"), tags=("t",))
            for i, p in enumerate(pipelines)
        ),
        tasks=tuple(TaskRecord(p, name) for p in pipelines for name in ("a", "b")),
        runs=tuple(
            RunRecord(
                p, ext, RunStatus.FAILED, started_at=start + timedelta(minutes=i), tags=("x",)
            )
            for i, (p, ext) in enumerate(runs)
        ),
        task_runs=tuple(
            TaskRunRecord(ext, task, RunStatus.FAILED, attempt=attempt)
            for _, ext in runs
            for task, attempt in (("a", 1), ("b", 1), ("b", 2))
        ),
        assets=tuple(
            AssetRecord(
                f"s3://wide/{p}", alias=f"{source}:{p}", owners=("team",), freshness_max_age_s=60
            )
            for p in pipelines
        ),
        asset_events=tuple(
            AssetEventRecord(
                f"s3://wide/{p}",
                AssetEventKind.PRODUCED,
                start + timedelta(minutes=i),
                run_id=ext,
                task_id="b",
                attempt=2,
            )
            for i, (p, ext) in enumerate(runs)
        ),
        check_results=tuple(
            CheckResultRecord(f"s3://wide/{p}", "rows", True, start, run_id=ext) for p, ext in runs
        ),
    )


@pytest.fixture
def wide(store: Store) -> Iterator[tuple[GraphQLClient, list[str]]]:
    for source in (1, 2):
        store.write_batch(store.ensure_source(f"source-{source}", "synthetic"), _wide_batch(source))
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(store.engine, "before_cursor_execute", count)
    try:
        app = create_app(catalog=Catalog(store, clock=lambda: NOW), cache_responses=False)
        with TestClient(app) as http:
            yield GraphQLClient(http), statements
    finally:
        event.remove(store.engine, "before_cursor_execute", count)


QUERIES = {
    "runs": """query($first: Int!) { runs(first: $first) { totalCount nodes {
        id status tags pipeline { name owners tags source { name sync { outcome } } }
        taskRuns { totalCount nodes { attempt task { name pipeline { name } } } }
        parentRun { id } assetEvents { kind asset { uri owners } taskRun { attempt } } } } }""",
    "pipelines": """query($first: Int!) { pipelines(first: $first) { nodes {
        name owners tasks { name }
        runs(first: 2) { totalCount nodes { status taskRuns { nodes { status } } } } } } }""",
    "assets": """query($first: Int!) { assets(first: $first) { nodes {
        uri owners tags freshness { isStale } aliases { alias source { name } }
        events(first: 3) { totalCount nodes { kind run { pipeline { name } } } }
        checks(first: 3) { totalCount nodes { passed run { status } } } } } }""",
    "failedRuns": """query($first: Int!) { failedRuns(first: $first) { nodes {
        owners pipeline { owners source { name } } } } }""",
    "producedBetween": """query($first: Int!) {
        producedBetween(start: "2026-03-01T00:00:00Z", end: "2026-03-11T00:00:00Z",
                        first: $first) {
        nodes { asset { uri owners } run { pipeline { name } } taskRun { task { name } } } } }""",
}


def _statements(client: GraphQLClient, statements: list[str], query: str, first: int) -> int:
    statements.clear()
    data = client.data(query, {"first": first})
    (connection,) = data.values()
    assert len(connection["nodes"]) == first
    return len(statements)


@pytest.mark.parametrize("name", QUERIES)
def test_statements_do_not_grow_with_rows(wide: tuple[GraphQLClient, list[str]], name: str) -> None:
    client, statements = wide
    few = _statements(client, statements, QUERIES[name], 5)
    many = _statements(client, statements, QUERIES[name], 50)
    assert few == many, f"{name}: {few} statements for 5 rows but {many} for 50"


def test_runs_with_pipeline_owners_and_task_runs_cost_one_query_per_relation(
    wide: tuple[GraphQLClient, list[str]],
) -> None:
    client, statements = wide
    query = """query($first: Int!) { runs(first: $first) { nodes {
        pipeline { owners source { name } } taskRuns { nodes { task { name } } } } } }"""
    # runs, pipelines with their sources (one join, read with the page), owners, task runs, tasks
    assert _statements(client, statements, query, 5) == 5
    assert _statements(client, statements, query, 50) == 5


def test_runs_owners_are_read_with_the_page(wide: tuple[GraphQLClient, list[str]]) -> None:
    client, statements = wide
    query = """query($first: Int!) { runs(first: $first) { nodes { owners } } }"""
    # runs, their own owners, their pipelines' owners: no statement per run
    assert _statements(client, statements, query, 5) == 3
    assert _statements(client, statements, query, 50) == 3
