"""Whole-response caching: repeated queries skip execution until the catalog's data changes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from graphql import GraphQLError
from sqlalchemy import event
from starlette.testclient import TestClient
from strawberry.types.execution import ExecutionResult

from api.app import create_app
from api.cache import ResponseCache, is_query
from catalog.enums import RunStatus
from catalog.records import Batch, RunRecord
from catalog.service import Catalog
from tests.api.conftest import GraphQLClient
from tests.api.estate import NOW

RUNS = "{ runs(first: 5) { totalCount nodes { externalId status } } }"
WINDOW = (
    '{ failedRuns(since: "2026-01-01T00:00:00Z", until: "2027-01-01T00:00:00Z") { totalCount } }'
)


@pytest.fixture
def counted(catalog: Catalog) -> Iterator[tuple[GraphQLClient, list[str]]]:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    engine = catalog.store.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        with TestClient(create_app(catalog=catalog)) as http:
            yield GraphQLClient(http), statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_a_repeated_query_costs_only_the_version_check(
    counted: tuple[GraphQLClient, list[str]],
) -> None:
    client, statements = counted
    first = client.data(RUNS)
    statements.clear()
    assert client.data(RUNS) == first
    assert len(statements) == 1
    assert "meta" in statements[0]


def test_a_commit_invalidates_every_cached_answer(
    counted: tuple[GraphQLClient, list[str]], catalog: Catalog
) -> None:
    client, _ = counted
    before = client.data(WINDOW)["failedRuns"]["totalCount"]
    store = catalog.store
    source = store.ensure_source("late-source", "synthetic")
    late = RunRecord("p", "late-failure", RunStatus.FAILED, started_at=NOW)
    store.write_batch(source, Batch(cursor={}, runs=(late,)))
    assert client.data(WINDOW)["failedRuns"]["totalCount"] == before + 1


def test_answers_that_depend_on_now_are_never_cached(
    counted: tuple[GraphQLClient, list[str]],
) -> None:
    client, statements = counted
    client.data("{ failedRuns { totalCount } }")
    statements.clear()
    client.data("{ failedRuns { totalCount } }")
    assert len(statements) > 1  # executed again: "the last seven days" moves with the clock


def test_errors_are_never_cached() -> None:
    cache = ResponseCache()
    key = cache.key("{ a }", None, None, 1)
    cache.put(key, ExecutionResult(data={"a": 1}, errors=[GraphQLError("boom")]))
    assert cache.get(key) is None
    cache.put(key, ExecutionResult(data={"a": 1}, errors=None))
    assert cache.get(key) is not None
    assert cache.get(cache.key("{ a }", None, None, 2)) is None  # a newer data version


def test_only_queries_are_cacheable() -> None:
    assert is_query("{ runs { totalCount } }", None)
    assert is_query("query A { a } mutation B { b }", "A")
    assert not is_query("query A { a } mutation B { b }", "B")
    assert not is_query("mutation { linkAssets }", None)
    assert not is_query("{ not graphql", None)
