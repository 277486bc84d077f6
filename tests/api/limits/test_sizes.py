"""Request bodies and documents past their size are 413s that name the limit, read no further
than it, and leave the server serving; bodies that are not honest JSON are 400s."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from starlette.testclient import TestClient

from api.app import create_app
from catalog.config import LimitSettings
from catalog.service import Catalog
from catalog.store.store import Store
from tests.peers.tempox import serve

JSON = {"content-type": "application/json"}
SMALL = "{ sources { totalCount } }"


@pytest.fixture
def http(catalog: Catalog) -> Iterator[TestClient]:
    limits = LimitSettings(max_body_bytes=50_000, max_document_bytes=10_000)
    with TestClient(create_app(catalog=catalog, limits=limits)) as client:
        yield client


def _still_serving(http: TestClient) -> None:
    answer = http.post("/graphql", json={"query": SMALL})
    assert answer.status_code == 200
    assert answer.json()["data"]["sources"]["totalCount"] >= 0


@pytest.mark.parametrize(
    "document",
    [
        SMALL + "#" + "x" * 20_000,  # a comment: the token limit skips it, the size does not
        "{ sources { totalCount" + " " * 20_000 + "} }",  # whitespace counts too
        '{ asset(uri: "' + "x" * 20_000 + '") { __typename } }',  # a long string argument
    ],
    ids=["comment", "whitespace", "string argument"],
)
def test_a_document_past_its_size_is_413(http: TestClient, document: str) -> None:
    answer = http.post("/graphql", json={"query": document})
    assert answer.status_code == 413
    [error] = answer.json()["errors"]
    assert error["extensions"]["code"] == "DOCUMENT_TOO_LARGE"
    assert "the limit is 10,000 ([limits] max_document_bytes)" in error["message"]
    by_get = http.get("/graphql", params={"query": document})
    assert by_get.status_code == 413
    _still_serving(http)


def test_a_body_past_its_size_is_413_however_it_is_sent(http: TestClient) -> None:
    big = b'{"query": "' + SMALL.encode() + b'", "variables": {"x": "' + b"y" * 60_000 + b'"}}'
    answer = http.post("/graphql", content=big, headers=JSON)
    assert answer.status_code == 413
    assert answer.json()["errors"][0]["extensions"]["code"] == "BODY_TOO_LARGE"
    # Without a Content-Length (chunked), counted as it arrives.
    chunked = http.post("/graphql", content=iter([big[:30_000], big[30_000:]]), headers=JSON)
    assert chunked.status_code == 413
    _still_serving(http)


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (
            '{"query": "' + SMALL + '", "variables": {"a": ' + "[" * 5000 + "]" * 5000 + "}}",
            "nested deeper than 64 levels",
        ),
        (
            '{"query": "' + SMALL + '", "variables": {"a": ' + "[" * 100 + "]" * 100 + "}}",
            "nested deeper than 64 levels",
        ),
        ('{"query": "' + SMALL + '", "variables": {"r": NaN}}', "variables.r: NaN is not allowed"),
        (
            '{"query": "' + SMALL + '", "variables": {"r": -Infinity}}',
            "r: -Infinity is not allowed",
        ),
        ('{"query": "' + SMALL + '", "variables": {"r": "\\u0000"}}', "r: NUL character"),
    ],
    ids=["5,000 deep", "100 deep", "NaN", "-Infinity", "NUL"],
)
def test_bodies_that_are_not_honest_json_are_400(http: TestClient, body: str, problem: str) -> None:
    answer = http.post("/graphql", content=body, headers=JSON)
    assert answer.status_code == 400
    [error] = answer.json()["errors"]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert problem in error["message"]
    _still_serving(http)


def test_the_limits_hold_through_a_real_server(store: Store) -> None:
    # 200 MB would be read whole without a limit: the server stops at 1 MB and answers.
    with serve(store) as url, httpx.Client(timeout=30) as client:

        def chunks() -> Iterator[bytes]:
            yield b'{"query": "{ sources { totalCount } }", "x": "'
            for _ in range(200):
                yield b"z" * 1_000_000

        answer = client.post(f"{url}/graphql", content=chunks(), headers=JSON)
        assert answer.status_code == 413
        assert client.get(f"{url}/healthz").status_code == 200
