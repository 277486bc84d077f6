"""The static cost estimate: what the named operations cost, what abusive documents cost, and
how the app refuses the latter before anything runs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from graphql import parse
from starlette.testclient import TestClient

from api.app import create_app
from api.limits.cost import DEFAULT_LIST_SIZE, MAX_NESTING, TooDeep, query_cost
from api.schema import schema
from catalog.config import LimitSettings
from catalog.service import Catalog
from tests.api.conftest import OPERATIONS, GraphQLClient

GRAPHQL = schema._schema
ABUSE = (
    "{ runs(first: 500) { nodes { pipeline { runs(first: 500) { nodes { pipeline {"
    " runs(first: 500) { nodes { id } } } } } } } } }"
)
# What the named operations need, at their largest pages.
VARIABLES: dict[str, dict[str, Any]] = {
    "Asset": {"uri": "x"},
    "ColumnLineage": {"uri": "x"},
    "Impact": {"run": "1"},
    "Lineage": {"node": {"asset": "x"}},
    "ProducedBetween": {"start": "2026-01-01T00:00:00Z", "end": "2026-01-02T00:00:00Z"},
    "Run": {"id": "1"},
}


def cost(document: str, variables: dict[str, Any] | None = None) -> int:
    return query_cost(GRAPHQL, parse(document), None, variables)


def test_fields_count_once_and_lists_by_their_page() -> None:
    assert cost("{ sources { totalCount } }") == 2
    # A connection's items count as many times as its `first` (default 50).
    assert cost("{ runs { nodes { id status } } }") == 1 + 1 + 50 * 2
    assert cost("{ runs(first: 10) { nodes { id status } } }") == 1 + 1 + 10 * 2
    assert cost("query($n: Int!) { runs(first: $n) { nodes { id } } }", {"n": 7}) == 1 + 1 + 7
    # Lists of scalars cost 1; small unbounded lists of objects count DEFAULT_LIST_SIZE items.
    assert cost("{ pipelines(first: 1) { nodes { owners tasks { name } } } }") == (
        1 + 1 + 1 * (1 + 1 + DEFAULT_LIST_SIZE * 1)
    )
    # A lineage answer counts its nodes and edges by maxNodes.
    lineage = (
        '{ lineage(node: {asset: "x"}, maxNodes: 100) { ... on LineageGraph { nodes { depth } } } }'
    )
    assert cost(lineage) == 1 + 1 + 100 * 1


def test_fragments_and_union_branches_count() -> None:
    spread = "{ ...F } fragment F on Query { runs(first: 3) { nodes { id } } }"
    assert cost(spread) == cost("{ runs(first: 3) { nodes { id } } }")
    union = '{ run(id: "1") { ... on Run { id status } ... on NotFound { message } } }'
    assert cost(union) == 1 + 2 + 1


def test_nesting_is_multiplied_and_too_deep_is_refused_outright() -> None:
    assert cost(ABUSE) > 100_000_000
    levels = MAX_NESTING // 3 + 1  # three selection sets a level: runs, nodes, pipeline
    deep = "{ " + "runs { nodes { pipeline { " * levels + "id" + " } } }" * levels + " }"
    with pytest.raises(TooDeep):
        query_cost(GRAPHQL, parse(deep, max_tokens=None), None, None)


def test_introspection_is_cheap() -> None:
    assert cost("{ __schema { types { name fields { name type { name } } } } }") == 1


@pytest.mark.parametrize("path", sorted(OPERATIONS.glob("*.graphql")), ids=lambda p: p.stem)
def test_every_named_operation_fits_the_default_limit_at_its_largest(path: Path) -> None:
    variables = {**VARIABLES.get(path.stem, {}), "first": 500, "maxNodes": 10_000}
    assert cost(path.read_text(), variables) <= LimitSettings().max_query_cost


@pytest.fixture
def limited(catalog: Catalog) -> Iterator[GraphQLClient]:
    limits = LimitSettings(max_query_cost=1_000)
    with TestClient(create_app(catalog=catalog, limits=limits)) as http:
        yield GraphQLClient(http)


def test_the_app_refuses_a_costly_query_naming_cost_and_limit(limited: GraphQLClient) -> None:
    [error] = limited.errors("{ runs(first: 500) { nodes { id status } } }")
    assert error["message"].startswith("the query would cost 1,002; the limit is 1,000")
    assert error["extensions"] == {"code": "QUERY_TOO_COSTLY", "cost": 1002, "limit": 1000}
    assert "data" not in error
    # Validation comes first: a document that is wrong anyway says what is wrong with it.
    [error] = limited.errors("{ runs(first: 500) { nodes { nope } } }")
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    # Within the limit, and introspection, run as ever.
    assert limited.data("{ runs(first: 10) { nodes { id } } }")["runs"]["nodes"]
    assert limited.data("{ __schema { queryType { name } } }")["__schema"]


def test_the_abusive_query_of_the_issue_is_refused_by_default(client: GraphQLClient) -> None:
    [error] = client.errors(ABUSE)
    assert error["extensions"]["code"] == "QUERY_TOO_COSTLY"
    assert error["extensions"]["limit"] == LimitSettings().max_query_cost
