"""Browsers: only the web pages listed in ``[server] cors_origins`` may call the API, and a page
anywhere cannot write lineage with what it may send without asking (a form, text/plain)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from api.app import create_app
from catalog.config import AuthSettings, Settings, parse_settings
from catalog.service import Catalog
from catalog.store import tables as t
from catalog.store.store import Store

UI = "https://ui.example"
ELSEWHERE = "https://evil.example"
QUERY = {"query": "{ __typename }"}


@pytest.fixture
def empty_catalog(sqlite_url: str) -> Iterator[Catalog]:
    store = Store(sqlite_url)
    yield Catalog(store)
    store.close()


def _settings(*origins: str) -> Settings:
    return parse_settings({"server": {"cors_origins": list(origins)}})


def _preflight(http: TestClient, origin: str, path: str = "/graphql") -> Any:
    return http.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )


def test_without_cors_origins_no_origin_is_allowed(empty_catalog: Catalog) -> None:
    assert _settings().server.cors_origins == ()
    for app in (create_app(catalog=empty_catalog), create_app(_settings(), catalog=empty_catalog)):
        with TestClient(app) as http:
            for origin in (UI, ELSEWHERE):
                response = _preflight(http, origin)
                assert "access-control-allow-origin" not in response.headers
                assert "access-control-allow-headers" not in response.headers
                # Simple requests are answered (an open server), but a browser will not let
                # the page read the answer.
                got = http.get("/graphql", params=QUERY, headers={"Origin": origin})
                posted = http.post("/graphql", json=QUERY, headers={"Origin": origin})
                for simple in (got, posted):
                    assert simple.status_code == 200, simple.text
                    assert "access-control-allow-origin" not in simple.headers


def test_a_listed_origin_is_allowed_authorization_and_content_type_another_is_not(
    empty_catalog: Catalog,
) -> None:
    app = create_app(_settings(UI), catalog=empty_catalog)
    with TestClient(app) as http:
        for path in ("/graphql", "/api/v1/lineage"):
            response = _preflight(http, UI, path)
            assert response.status_code == 200, response.text
            assert response.headers["access-control-allow-origin"] == UI
            allowed = {
                h.strip().lower()
                for h in response.headers["access-control-allow-headers"].split(",")
            }
            assert {"authorization", "content-type"} <= allowed
            assert "POST" in response.headers["access-control-allow-methods"]
            # Bearer tokens, not cookies: a page never rides on a signed-in browser.
            assert "access-control-allow-credentials" not in response.headers

        refused = _preflight(http, ELSEWHERE)
        assert refused.status_code == 400
        assert "access-control-allow-origin" not in refused.headers

        # A header nobody listed is not allowed, even to the listed origin.
        odd = http.options(
            "/graphql",
            headers={
                "Origin": UI,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "x-tempox-secret",
            },
        )
        assert odd.status_code == 400
        # Origins are matched exactly: no scheme, port or subdomain variants.
        for near in ("http://ui.example", "https://ui.example:8443", "https://a.ui.example"):
            assert "access-control-allow-origin" not in _preflight(http, near).headers

        ok = http.post("/graphql", json=QUERY, headers={"Origin": UI})
        assert ok.headers["access-control-allow-origin"] == UI
        other = http.post("/graphql", json=QUERY, headers={"Origin": ELSEWHERE})
        assert "access-control-allow-origin" not in other.headers


def test_a_preflight_needs_no_token_when_auth_is_required(empty_catalog: Catalog) -> None:
    app = create_app(_settings(UI), catalog=empty_catalog, auth=AuthSettings(required=True))
    with TestClient(app) as http:
        preflight = _preflight(http, UI)
        assert preflight.status_code == 200, preflight.text
        assert preflight.headers["access-control-allow-origin"] == UI

        # The request itself does need one; the page may read why it was refused.
        refused = http.post("/graphql", json=QUERY, headers={"Origin": UI})
        assert refused.status_code == 401
        assert refused.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert refused.headers["access-control-allow-origin"] == UI
        assert refused.headers["www-authenticate"] == 'Bearer realm="tempox"'

        # Auth required or not, another origin's preflight is not answered.
        assert "access-control-allow-origin" not in _preflight(http, ELSEWHERE).headers


# -- cross-site writes without a preflight ------------------------------------------------------


def _event() -> dict[str, object]:
    return {
        "eventType": "COMPLETE",
        "eventTime": "2024-05-01T10:00:00Z",
        "producer": "https://example.com/producer",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": "0193a0b6-2a8e-7c6e-9b1a-000000000415"},
        "job": {"namespace": "cross-site", "name": "forged"},
    }


def _stored(store: Store) -> tuple[int, int, int]:
    with store.session() as s:
        counts = (
            s.execute(select(func.count()).select_from(table)).scalar_one()
            for table in (t.Source, t.Pipeline, t.Run)
        )
        sources, pipelines, runs = (int(n) for n in counts)
    return sources, pipelines, runs


@pytest.mark.parametrize(
    ("content_type", "got"),
    [
        ("text/plain", "'text/plain'"),
        ("Text/Plain;charset=UTF-8", "'text/plain'"),
        ("application/x-www-form-urlencoded", "'application/x-www-form-urlencoded'"),
        ("multipart/form-data; boundary=x", "'multipart/form-data'"),
        (None, "none"),
    ],
)
def test_lineage_that_is_not_declared_json_is_a_415_and_stores_nothing(
    catalog: Catalog, content_type: str | None, got: str
) -> None:
    body = json.dumps(_event()).encode()
    before = _stored(catalog.store)
    with TestClient(create_app(catalog=catalog)) as http:  # open: no token needed
        headers = {"Origin": ELSEWHERE}
        if content_type is not None:
            headers["Content-Type"] = content_type
        response = http.post("/api/v1/lineage", content=body, headers=headers)
        assert response.status_code == 415, response.text
        assert response.json() == {"error": f"Content-Type must be application/json (got {got})"}
        assert "access-control-allow-origin" not in response.headers
        assert _stored(catalog.store) == before

        # The same event, declared as JSON (which a page cannot send without a preflight).
        accepted = http.post(
            "/api/v1/lineage", content=body, headers={"Content-Type": "application/json"}
        )
        assert accepted.status_code == 201, accepted.text
        assert _stored(catalog.store)[2] == before[2] + 1
