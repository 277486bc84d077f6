"""The compiled operations (api/direct) answer exactly as the general executor does."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from api.app import create_app
from api.direct.answers import ANSWERS
from api.graphql_app import GraphQLApp
from catalog.service import Catalog
from tests.api.conftest import OPERATIONS, GraphQLClient
from tests.api.estate import CLEAN, DASHBOARD, RAW, REVENUE

CASES: list[tuple[str, dict[str, Any]]] = [
    ("FailedRuns", {}),
    ("FailedRuns", {"first": 2}),
    ("FailedRuns", {"since": "2026-02-15T00:00:00Z", "until": "2026-03-01T00:00:00+01:00"}),
    ("FailedRuns", {"first": 0}),
    ("Runs", {}),
    ("Runs", {"first": 500}),
    ("Runs", {"first": 3}),
    ("Runs", {"filter": {"status": ["FAILED", "UPSTREAM_FAILED"], "source": ["airflow-prod"]}}),
    ("Runs", {"filter": {"owner": "analytics@acme.io", "trigger": ["SCHEDULED", "MANUAL"]}}),
    ("Runs", {"filter": {"tag": "reporting", "since": "2026-03-01T00:00:00Z"}}),
    ("Runs", {"filter": {"until": "2026-03-01T00:00:00Z"}, "first": 1}),
    ("Assets", {}),
    ("Assets", {"first": 1}),
    ("Assets", {"filter": {"uriPrefix": "s3://"}}),
    ("Assets", {"filter": {"owner": "analytics@acme.io", "search": "e"}}),
    ("Assets", {"filter": {"tag": "pii"}}),
    ("Lineage", {"node": {"asset": RAW}}),
    ("Lineage", {"node": {"asset": RAW}, "depth": 1}),
    ("Lineage", {"node": {"asset": CLEAN}, "direction": "UPSTREAM", "depth": 3}),
    ("Lineage", {"node": {"asset": CLEAN}, "direction": "BOTH"}),
    ("Lineage", {"node": {"asset": RAW}, "asOf": "2000-01-01T00:00:00Z"}),
]


@pytest.fixture
def app_and_client(catalog: Catalog) -> Iterator[tuple[GraphQLApp, GraphQLClient]]:
    app = create_app(catalog=catalog, cache_responses=False)
    graphql = next(r.endpoint for r in app.routes if getattr(r, "path", "") == "/graphql")
    assert isinstance(graphql, GraphQLApp)
    with TestClient(app) as http:
        yield graphql, GraphQLClient(http)


def _both(
    app: GraphQLApp, client: GraphQLClient, name: str, variables: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    document = (OPERATIONS / f"{name}.graphql").read_text()
    before = app.direct.answered
    direct = client.post(document, variables)
    assert app.direct.answered == before + 1, f"{name} {variables} was not answered directly"
    # One more character and the document is no longer the compiled one: the executor's turn.
    general = client.post(document + "\n", variables)
    assert app.direct.answered == before + 1
    return direct, general


def test_every_compiled_operation_is_a_document_of_graphql_operations() -> None:
    assert {name for name, _ in CASES} == set(ANSWERS)
    assert all((OPERATIONS / f"{name}.graphql").exists() for name in ANSWERS)


@pytest.mark.parametrize(("name", "variables"), CASES)
def test_direct_answers_equal_the_executors(
    app_and_client: tuple[GraphQLApp, GraphQLClient], name: str, variables: dict[str, Any]
) -> None:
    direct, general = _both(*app_and_client, name, variables)
    assert "errors" not in general, general
    assert direct == general
    assert list(direct["data"]) == list(general["data"])  # and in the document's order


def test_next_pages_through_the_direct_path_equal_the_executors(
    app_and_client: tuple[GraphQLApp, GraphQLClient],
) -> None:
    for name, key in (("Runs", "runs"), ("FailedRuns", "failedRuns"), ("Assets", "assets")):
        first, _ = _both(*app_and_client, name, {"first": 1})
        after = first["data"][key]["pageInfo"]["endCursor"]
        direct, general = _both(*app_and_client, name, {"first": 1, "after": after})
        assert direct == general


@pytest.mark.parametrize(
    ("name", "variables"),
    [
        ("Runs", {"first": "many"}),  # does not coerce
        ("Runs", {"first": 501}),  # the catalog refuses it
        ("Runs", {"after": "not-a-cursor"}),
        ("Runs", {"filter": {"pipeline": ["x"]}}),
        ("FailedRuns", {"since": "2026-03-01T00:00:00Z", "until": "2026-02-01T00:00:00Z"}),
        ("Assets", {"after": "bm90IGEgY3Vyc29y"}),
        ("Lineage", {"node": {"asset": "s3://nowhere/at-all"}}),  # NotFound
        ("Lineage", {"node": {"asset": RAW}, "depth": 0}),
        ("Lineage", {"node": {"asset": RAW, "pipeline": "1"}}),
    ],
)
def test_what_the_direct_path_declines_the_executor_answers(
    app_and_client: tuple[GraphQLApp, GraphQLClient], name: str, variables: dict[str, Any]
) -> None:
    app, client = app_and_client
    document = (OPERATIONS / f"{name}.graphql").read_text()
    before = app.direct.answered
    declined = client.post(document, variables)
    assert app.direct.answered == before
    assert declined == client.post(document + "\n", variables)


def test_a_compiled_operation_over_the_cost_limit_is_refused_as_before(catalog: Catalog) -> None:
    from catalog.config import LimitSettings

    app = create_app(catalog=catalog, limits=LimitSettings(max_query_cost=10))
    with TestClient(app) as http:
        body = GraphQLClient(http).post((OPERATIONS / "Runs.graphql").read_text(), {"first": 5})
    assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY"


def test_run_owners_are_the_runs_own_then_its_pipelines(
    app_and_client: tuple[GraphQLApp, GraphQLClient],
) -> None:
    direct, general = _both(*app_and_client, "FailedRuns", {})
    assert direct == general
    owners = [n["owners"] for n in direct["data"]["failedRuns"]["nodes"]]
    # The Dagster run launched with an owner tag of its own: that owner first.
    assert ["oncall@acme.io", "analytics@acme.io"] in owners


def test_a_linked_edge_names_who_linked_it_on_both_paths(
    app_and_client: tuple[GraphQLApp, GraphQLClient], catalog: Catalog
) -> None:
    catalog.link_assets(REVENUE, DASHBOARD, by="token:ci")
    direct, general = _both(*app_and_client, "Lineage", {"node": {"asset": REVENUE}})
    assert direct == general
    linked = [e for e in direct["data"]["lineage"]["edges"] if e["origins"] == ["LINKED"]]
    assert linked
    assert all(e["sources"] == ["token:ci"] for e in linked)


def test_one_app_answers_every_case_as_the_executor_does(
    app_and_client: tuple[GraphQLApp, GraphQLClient],
) -> None:
    # Statements are compiled once per filter shape and kept: each request binds its own values.
    for name, variables in [*CASES, *CASES[::-1]]:
        direct, general = _both(*app_and_client, name, variables)
        assert direct == general, (name, variables)


@pytest.mark.parametrize(
    "variables",
    [
        {"filter": {"uriPrefix": "s3://lake/raw"}},
        {"filter": {"uriPrefix": "s3:__lake"}},  # "_" is a character here, not LIKE's wildcard
        {"filter": {"uriPrefix": "s3%"}},
        {"filter": {"search": "ORDERS"}},
        {"filter": {"owner": "nobody@acme.io"}},
    ],
)
def test_asset_filters_match_as_the_executor_does(
    app_and_client: tuple[GraphQLApp, GraphQLClient], variables: dict[str, Any]
) -> None:
    direct, general = _both(*app_and_client, "Assets", variables)
    assert direct == general


def test_lineage_starts_from_a_name_a_source_gives_an_asset(
    app_and_client: tuple[GraphQLApp, GraphQLClient],
) -> None:
    direct, general = _both(*app_and_client, "Lineage", {"node": {"asset": "lake/raw/orders"}})
    assert direct == general
    assert direct["data"]["lineage"]["nodes"]
