"""Whole-response caching: repeated queries skip execution until the catalog's data changes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from graphql import GraphQLError
from sqlalchemy import event
from starlette.testclient import TestClient
from strawberry.types.execution import ExecutionResult

from api.app import create_app
from api.cache import ResponseCache, is_query
from api.schema.context import CLOCK_STEP, round_down
from catalog.config import LimitSettings
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


class Clock:
    """The catalog's clock, moved by the test."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def clocked(catalog: Catalog) -> Iterator[tuple[GraphQLClient, list[str], Clock]]:
    clock = Clock(NOW + timedelta(seconds=1))
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    engine = catalog.store.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        with TestClient(create_app(catalog=Catalog(catalog.store, clock=clock))) as http:
            yield GraphQLClient(http), statements, clock
    finally:
        event.remove(engine, "before_cursor_execute", count)


LAST_WEEK = "{ failedRuns { totalCount } }"


def test_answers_that_depend_on_now_are_cached_while_the_rounded_now_stands(
    clocked: tuple[GraphQLClient, list[str], Clock],
) -> None:
    client, statements, clock = clocked
    assert timedelta(seconds=5) == CLOCK_STEP
    first = client.data(LAST_WEEK)
    clock.at = NOW + timedelta(seconds=4.999)  # still NOW, rounded down to 5 s
    statements.clear()
    assert client.data(LAST_WEEK) == first
    assert len(statements) == 1  # the version check: answered from the cache
    clock.at = NOW + timedelta(seconds=5)  # the next step: "the last seven days" moved
    statements.clear()
    assert client.data(LAST_WEEK) == first
    assert len(statements) > 1  # executed again


def test_the_window_ends_at_the_rounded_now(
    clocked: tuple[GraphQLClient, list[str], Clock], catalog: Catalog
) -> None:
    client, _, clock = clocked
    store = catalog.store
    source = store.ensure_source("late-source", "synthetic")
    late = RunRecord("p", "late", RunStatus.FAILED, started_at=NOW + timedelta(seconds=2))
    store.write_batch(source, Batch(cursor={}, runs=(late,)))
    clock.at = NOW + timedelta(seconds=4)
    before = client.data(LAST_WEEK)["failedRuns"]["totalCount"]  # until NOW: without it
    clock.at = NOW + timedelta(seconds=5)
    assert client.data(LAST_WEEK)["failedRuns"]["totalCount"] == before + 1


def test_answers_that_do_not_read_the_clock_outlive_its_steps(
    clocked: tuple[GraphQLClient, list[str], Clock],
) -> None:
    client, statements, clock = clocked
    first = client.data(RUNS)
    clock.at = NOW + timedelta(hours=1)
    statements.clear()
    assert client.data(RUNS) == first
    assert len(statements) == 1


def test_round_down() -> None:
    at = datetime(2026, 3, 10, 12, 0, 7, 123456, tzinfo=UTC)
    assert round_down(at, timedelta(seconds=5)) == datetime(2026, 3, 10, 12, 0, 5, tzinfo=UTC)
    assert round_down(at, timedelta(0)) == at
    assert round_down(at, timedelta(minutes=1)) == datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def test_errors_are_never_cached() -> None:
    cache = ResponseCache()
    key = cache.key("{ a }", None, None, 1)
    cache.put(key, ExecutionResult(data={"a": 1}, errors=[GraphQLError("boom")]))
    assert cache.get(key) is None
    cache.put(key, ExecutionResult(data={"a": 1}, errors=None))
    assert cache.get(key) is not None
    assert cache.get(cache.key("{ a }", None, None, 2)) is None  # a newer data version


def test_an_answer_showing_sync_state_is_served_only_at_its_sync_version() -> None:
    cache = ResponseCache()
    shows_sync = cache.key("{ sources { nodes { sync { outcome } } } }", None, None, 1)
    cache.put(shows_sync, ExecutionResult(data={"a": 1}, errors=None), sync_version=3)
    assert cache.get(shows_sync, 3) is not None
    assert cache.get(shows_sync, 4) is None  # a sync state changed since
    names = cache.key("{ sources { nodes { name } } }", None, None, 1)
    cache.put(names, ExecutionResult(data={"a": 1}, errors=None))
    assert cache.get(names, 3) is not None
    assert cache.get(names, 9) is not None  # no sync state in it: any sync version will do


def test_an_answer_showing_sync_state_and_reading_the_clock_needs_both_to_hold() -> None:
    cache = ResponseCache()
    key = cache.key("{ sources { nodes { sync { outcome } } } }", None, None, 1)
    cache.put(key, ExecutionResult(data={"a": 1}, errors=None), sync_version=3, now=NOW)
    assert cache.get(key, 3, NOW) is not None
    assert cache.get(key, 4, NOW) is None  # a sync state changed since
    assert cache.get(key, 3, NOW + CLOCK_STEP) is None  # the rounded "now" moved
    plain = cache.key("{ a }", None, None, 1)
    cache.put(plain, ExecutionResult(data={"a": 1}, errors=None))
    assert cache.get(plain, 9, NOW + CLOCK_STEP) is not None  # neither: any will do


def test_a_repeated_sources_query_executes_again_only_after_a_sync(
    counted: tuple[GraphQLClient, list[str]], catalog: Catalog
) -> None:
    client, statements = counted
    query = "{ sources { nodes { name sync { outcome lastSuccessAt } } } }"
    first = client.data(query)
    statements.clear()
    assert client.data(query) == first
    assert len(statements) == 1  # the versions, read together
    store = catalog.store
    source = store.source_id("airflow-prod")
    assert store.try_lease(source, "w", timedelta(minutes=1))
    store.finish_sync(source, "w", None)  # a sync that found nothing new
    again = client.data(query)
    assert again != first


def test_only_queries_are_cacheable() -> None:
    assert is_query("{ runs { totalCount } }", None)
    assert is_query("query A { a } mutation B { b }", "A")
    assert not is_query("query A { a } mutation B { b }", "B")
    assert not is_query("mutation { linkAssets }", None)
    assert not is_query("{ not graphql", None)


def test_the_cache_is_bounded_in_bytes_and_keeps_no_large_answer() -> None:
    cache = ResponseCache(max_bytes=10_000, max_entry_bytes=2_000)
    for n in range(100):
        key = cache.key(f"{{ a{n} }}", None, None, 1)
        served = cache.put(key, ExecutionResult(data={"a": "x" * 500}, errors=None))
        assert json.loads(served.data.raw) == {"a": "x" * 500}  # type: ignore[union-attr]
        assert cache.size <= 10_000
    assert cache.get(cache.key("{ a99 }", None, None, 1)) is not None  # the newest stay
    assert cache.get(cache.key("{ a0 }", None, None, 1)) is None  # the oldest went
    big = cache.key("{ big }", None, None, 1)
    cache.put(big, ExecutionResult(data={"a": "x" * 5_000}, errors=None))
    assert cache.get(big) is None  # one answer past max_entry_bytes is not kept at all
    # A large document counts against the bound as much as a large answer.
    long_document = cache.key("{ b }" + " " * 3_000, None, None, 1)
    cache.put(long_document, ExecutionResult(data={"b": 1}, errors=None))
    assert cache.get(long_document) is None


def test_many_distinct_large_answers_stay_within_the_bytes_bound(catalog: Catalog) -> None:
    limits = LimitSettings(cache_bytes=200_000, cache_entry_bytes=100_000)
    app = create_app(catalog=catalog, limits=limits)
    with TestClient(app) as http:
        client = GraphQLClient(http)
        for n in range(1, 40):
            client.data(f"{{ runs(first: {n}) {{ nodes {{ externalId status error }} }} }}")
        graphql = next(r.app for r in app.routes if getattr(r, "path", "") == "/graphql")
        assert 0 < graphql.cache.size <= 200_000
