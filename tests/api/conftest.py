"""An app over a seeded estate, with the catalog's clock fixed at ``estate.NOW``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from api.app import create_app
from catalog.service import Catalog
from catalog.store.store import Store
from tests.api.estate import NOW, seed

OPERATIONS = Path(__file__).resolve().parents[2] / "graphql" / "operations"


class GraphQLClient:
    """Posts documents to /graphql the way any client would."""

    def __init__(self, http: TestClient) -> None:
        self.http = http

    def post(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.http.post("/graphql", json={"query": query, "variables": variables or {}})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = self.post(query, variables)
        assert "errors" not in body, body["errors"]
        data: dict[str, Any] = body["data"]
        return data

    def errors(self, query: str, variables: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        body = self.post(query, variables)
        assert body.get("errors"), f"expected errors, got {body}"
        errors: list[dict[str, Any]] = body["errors"]
        return errors

    def operation(self, name: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.data((OPERATIONS / f"{name}.graphql").read_text(), variables)


@pytest.fixture
def catalog(store: Store) -> Catalog:
    seed(store)
    return Catalog(store, clock=lambda: NOW)


@pytest.fixture
def client(catalog: Catalog) -> Iterator[GraphQLClient]:
    with TestClient(create_app(catalog=catalog)) as http:
        yield GraphQLClient(http)


@pytest.fixture
def uncached_client(catalog: Catalog) -> Iterator[GraphQLClient]:
    """A client whose every request executes: for tests that count what execution costs."""
    with TestClient(create_app(catalog=catalog, cache_responses=False)) as http:
        yield GraphQLClient(http)
