"""Bad input gets an error naming the argument; a bug gets a generic one; the server lives on."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from graphql import get_introspection_query
from starlette.testclient import TestClient
from strawberry.extensions import parser_cache, validation_cache

from api.app import create_app
from catalog.pagination import encode_cursor
from catalog.service import Catalog
from catalog.store.store import Store
from tests.api.conftest import GraphQLClient

NAIVE = "2026-03-01T00:00:00"
LATE, EARLY = "2026-03-09T00:00:00Z", "2026-03-01T00:00:00Z"
LINEAGE_OF_RAW = (
    'query($d: Int!) { lineage(node: {asset: "s3://lake/raw/orders"}, depth: $d) { __typename } }'
)
FAILED_RUNS = (
    "query($s: DateTime, $u: DateTime) { failedRuns(since: $s, until: $u) { totalCount } }"
)
RUNS = (
    "query($f: RunFilter, $n: Int! = 50, $a: String) { runs(filter: $f, first: $n, after: $a) {"
    " totalCount } }"
)

# (document, variables, argument named in the message and in extensions.argument)
RESOLVER_ERRORS: list[tuple[str, dict[str, Any], str]] = [
    (FAILED_RUNS, {"s": NAIVE}, "since"),
    (FAILED_RUNS, {"s": LATE, "u": EARLY}, "since"),
    (RUNS, {"f": {"until": NAIVE}}, "filter.until"),
    (RUNS, {"f": {"since": LATE, "until": EARLY}}, "filter.since"),
    (RUNS, {"n": 1000}, "first"),
    (RUNS, {"a": "garbage"}, "after"),
    (RUNS, {"a": encode_cursor("not a time", "not an id")}, "after"),
    (RUNS, {"f": {"pipeline": ["x1"]}}, "filter.pipeline"),
    (
        "query($s: DateTime!) { producedBetween(start: $s, end: $s) { totalCount } }",
        {"s": NAIVE},
        "start",
    ),
    ("query($at: DateTime) { staleAssets(at: $at) { totalCount } }", {"at": NAIVE}, "at"),
    ("{ assets(first: -1) { totalCount } }", {}, "first"),
    ('{ sources(after: "WyJ4Il0=") { totalCount } }', {}, "after"),  # ["x"]: not an id
    ('{ pipelines { nodes { runs(after: "garbage") { totalCount } } } }', {}, "after"),
    (LINEAGE_OF_RAW, {"d": 0}, "depth"),
    ('{ impact(run: "1", depth: 51) { __typename } }', {}, "depth"),
    ('{ run(id: "abc") { __typename } }', {}, "id"),
    ("{ run { __typename } }", {}, "id"),
    ('{ lineage(node: {task: "-3"}) { __typename } }', {}, "node.task"),
]


@pytest.mark.parametrize(("document", "variables", "argument"), RESOLVER_ERRORS)
def test_invalid_argument_names_the_argument(
    client: GraphQLClient, document: str, variables: dict[str, Any], argument: str
) -> None:
    (error,) = client.errors(document, variables)
    assert error["message"].startswith(f"argument '{argument}': "), error
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": argument}


def test_messages_say_what_is_wrong(client: GraphQLClient) -> None:
    def message(document: str, variables: dict[str, Any] | None = None) -> str:
        (error,) = client.errors(document, variables)
        return str(error["message"])

    assert message("{ runs(first: 1000) { totalCount } }") == (
        "argument 'first': must be between 0 and 500, got 1000"
    )
    assert message(LINEAGE_OF_RAW, {"d": 0}) == (
        "argument 'depth': must be between 1 and 50, got 0"
    )
    literal = '{ failedRuns(since: "2026-03-01T00:00:00") { totalCount } }'
    assert message(literal) == ("argument 'since': needs a time zone (e.g. 2026-11-01T00:00:00Z)")
    assert message(FAILED_RUNS, {"s": LATE, "u": EARLY}).startswith(
        "argument 'since': is after until"
    )


def test_bad_enum_value_names_the_argument(client: GraphQLClient) -> None:
    (literal,) = client.errors("{ runs(filter: {status: [NOPE]}) { totalCount } }")
    assert literal["message"] == (
        "argument 'filter.status': Value 'NOPE' does not exist in 'RunStatus' enum."
    )
    assert literal["extensions"]["argument"] == "filter.status"

    query = "query($f: RunFilter) { runs(filter: $f) { totalCount } }"
    (variable,) = client.errors(query, {"f": {"status": ["FAILED", "NOPE"]}})
    assert variable["message"].startswith("Variable '$f' has invalid value at .status[1]")
    assert "'NOPE' does not exist in 'RunStatus' enum" in variable["message"]
    assert variable["extensions"]["code"] == "BAD_USER_INPUT"


def test_unknown_argument_and_field_are_named(client: GraphQLClient) -> None:
    (unknown,) = client.errors("{ runs(bogus: 1) { totalCount } }")
    assert unknown["message"] == "Unknown argument 'bogus' on field 'Query.runs'."
    assert unknown["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    (field,) = client.errors("{ runs { nope } }")
    assert "Cannot query field 'nope' on type 'RunConnection'" in field["message"]


def test_one_of_input_must_get_exactly_one_key(client: GraphQLClient) -> None:
    (error,) = client.errors('{ lineage(node: {asset: "x", task: "1"}) { __typename } }')
    assert error["message"].startswith("argument 'node': OneOf Input Object 'LineageNodeInput'")


def test_unparseable_document_and_datetime(client: GraphQLClient) -> None:
    (syntax,) = client.errors("{ runs ")
    assert syntax["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    query = "query($s: DateTime) { failedRuns(since: $s) { totalCount } }"
    (garbage,) = client.errors(query, {"s": "last tuesday"})
    assert garbage["message"].startswith("Variable '$s' has invalid value")
    assert "not an ISO 8601 date-time; write it as 2026-11-23T16:00:00Z" in garbage["message"]


@pytest.mark.parametrize("value", ['"yesterday"', '"2026-13-01T00:00:00Z"', "12", '""'])
def test_a_bad_date_time_names_the_argument_not_the_parser(
    client: GraphQLClient, value: str
) -> None:
    (error,) = client.errors(
        f'{{ producedBetween(start: {value}, end: "2026-11-23T16:00:00Z") {{ totalCount }} }}'
    )
    assert error["extensions"]["argument"] == "start"
    assert error["message"].startswith("argument 'start': ")
    assert "2026-11-23T16:00:00Z" in error["message"]  # how to write one
    for internal in ("int()", "base 10", "month must be", "Expected a string"):
        assert internal not in error["message"]


def test_limits_refuse_abusive_documents(client: GraphQLClient) -> None:
    deep = "{ runs { nodes { pipeline { runs { nodes { pipeline { runs { nodes { pipeline {"
    deep += " runs { nodes { pipeline { runs { nodes { id } } } } } } } } } } } } } } }"
    (depth,) = client.errors(deep)
    assert "exceeds maximum operation depth" in depth["message"]

    aliases = " ".join(f"a{i}: sources {{ totalCount }}" for i in range(40))
    (alias,) = client.errors("{ " + aliases + " }")
    assert "aliases" in alias["message"]

    tokens = "{ " + " ".join("__typename" for _ in range(6000)) + " }"
    (token,) = client.errors(tokens)
    assert "token" in token["message"].lower()


def test_graphiql_and_introspection_work_within_the_limits(client: GraphQLClient) -> None:
    data = client.data(get_introspection_query(descriptions=True))
    assert data["__schema"]["queryType"]["name"] == "Query"
    page = client.http.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert "graphiql" in page.text.lower()


def test_unexpected_error_is_generic_logged_and_survived(
    client: GraphQLClient,
    catalog: Catalog,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("password=hunter2 leaked in a driver message")

    monkeypatch.setattr(catalog.listing, "runs", broken)  # what the runs field calls
    with caplog.at_level(logging.ERROR, logger="tempox.api"):
        (error,) = client.errors("{ runs { totalCount } }")
    assert error["message"] == "Internal server error; the server log has the details."
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR"}
    assert "hunter2" not in str(error)
    logged = [r for r in caplog.records if r.exc_info]
    assert logged
    assert "hunter2" in str(logged[0].exc_info[1])  # type: ignore[index]

    monkeypatch.undo()
    assert client.data("{ runs { totalCount } }")["runs"]["totalCount"] == 8


def test_server_still_serves_after_errors(client: GraphQLClient) -> None:
    for document, variables, _ in RESOLVER_ERRORS:
        client.errors(document, variables)
    assert client.data("{ sources { totalCount } }") == {"sources": {"totalCount": 2}}
    health = client.http.get("/healthz")
    assert health.status_code == 200
    assert health.json() == {"status": "ok", "database": "ok", "dataVersion": 2}


def test_healthz_is_503_when_the_database_is_unreachable() -> None:
    unreachable = Store("postgresql://nobody@127.0.0.1:1/tempox", migrate=False)
    try:
        with TestClient(create_app(catalog=Catalog(unreachable))) as http:
            health = http.get("/healthz")
            assert health.status_code == 503
            body = health.json()
            assert body["status"] == "error"
            assert body["database"] == "unreachable"
            assert body["reason"].startswith("OperationalError")
    finally:
        unreachable.close()


def test_a_repeated_document_is_parsed_and_validated_once(uncached_client: GraphQLClient) -> None:
    client = uncached_client
    # The limits add validation rules; were they new classes per request, ValidationCache
    # would never hit and every request would pay for validation again.
    parsed = parser_cache._get_parse_cache(parser_cache.DEFAULT_MAXSIZE)
    validated = validation_cache._get_validate_cache(validation_cache.DEFAULT_MAXSIZE)
    document = "{ sources { totalCount } __typename }"
    client.data(document)
    before = (parsed.cache_info().hits, validated.cache_info().hits)
    client.data(document)
    client.data(document)
    assert parsed.cache_info().hits - before[0] == 2
    assert validated.cache_info().hits - before[1] == 2
