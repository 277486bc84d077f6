"""Every endpoint with every kind of credential, through a real uvicorn server on SQLite and
PostgreSQL: the right 200/401/403, the right GraphQL error code, and nothing written by a
request that was refused."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select

from catalog.auth.tokens import Tokens
from catalog.config import AuthSettings, parse_settings
from catalog.store import tables as t
from catalog.store.store import Store, utcnow
from tests.api.estate import CLEAN, RAW, seed
from tests.peers.tempox import serve

BOGUS = "tpx_0123456789ab_" + "A" * 43


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: str
    scope: str | None  # None: open to anyone (health checks)
    body: dict[str, object] | None = None
    graphql: bool = False


def _lineage_event(n: int) -> dict[str, object]:
    return {
        "eventType": "COMPLETE",
        "eventTime": "2024-05-01T10:00:00Z",
        "producer": "https://example.com/producer",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": f"0193a0b6-2a8e-7c6e-9b1a-{n:012d}"},
        "job": {"namespace": "auth-test", "name": "job"},
    }


def _graphql(query: str) -> dict[str, object]:
    return {"query": query}


ENDPOINTS = [
    Endpoint("healthz", "GET", "/healthz", None),
    Endpoint("graphiql", "GET", "/graphql", "read", graphql=True),
    Endpoint("query", "POST", "/graphql", "read", _graphql("{ sources { totalCount } }"), True),
    Endpoint(
        "introspection",
        "POST",
        "/graphql",
        "read",
        _graphql("{ __schema { queryType { name } } }"),
        True,
    ),
    Endpoint(
        "mutation",
        "POST",
        "/graphql",
        "write",
        _graphql(f'mutation {{ linkAssets(uri: "{RAW}", other: "{CLEAN}") {{ linkedBy }} }}'),
        True,
    ),
    Endpoint("tokens", "POST", "/graphql", "admin", _graphql("{ tokens { name } }"), True),
    Endpoint(
        "audit log",
        "POST",
        "/graphql",
        "admin",
        _graphql("{ auditLog { totalCount } }"),
        True,
    ),
    Endpoint("lineage", "POST", "/api/v1/lineage", "ingest", {}),
    Endpoint("metrics", "GET", "/metrics", "read"),
    Endpoint("sync push", "POST", "/api/v1/sources/synth/sync", "ingest", {"run_id": "r1"}),
]
# A configured source to push, whose syncs are left to another server (none here): a push is
# only recorded.
PUSHABLE = parse_settings(
    {"server": {"sync_in_background": False}, "sources": {"synth": {"kind": "synthetic"}}}
)
CREATED = {"/api/v1/lineage": 201, "/api/v1/sources/synth/sync": 202}
SCOPES = ("read", "ingest", "write", "admin")


@pytest.fixture
def tokens(store: Store) -> dict[str, str]:
    """A token per scope, one with all four, an expired one and a revoked one."""
    seed(store)
    made = Tokens(store)
    out = {scope: made.create(scope, [scope], by="cli:test")[1] for scope in SCOPES}
    out["all"] = made.create("all", SCOPES, by="cli:test")[1]
    yesterday = Tokens(store, clock=lambda: utcnow() - timedelta(days=2))
    out["expired"] = yesterday.create("old", SCOPES, by="cli:test", expires_in=timedelta(days=1))[1]
    out["revoked"] = made.create("gone", SCOPES, by="cli:test")[1]
    return out


@pytest.fixture
def server(store: Store, tokens: dict[str, str]) -> Iterator[str]:
    with serve(store, AuthSettings(required=True), settings=PUSHABLE) as url:
        yield url


def _send(
    http: httpx.Client, url: str, endpoint: Endpoint, credential: str | None
) -> httpx.Response:
    headers = {"accept": "text/html"} if endpoint.name == "graphiql" else {}
    if credential is not None:
        headers["authorization"] = credential
    body = endpoint.body
    if endpoint.path == "/api/v1/lineage":
        body = _lineage_event(abs(hash((endpoint.name, credential))) % 10**12)
    return http.request(endpoint.method, url + endpoint.path, json=body, headers=headers)


def _runs(store: Store) -> int:
    with store.session() as s:
        return int(s.execute(select(func.count()).select_from(t.Run)).scalar_one())


def _expected(endpoint: Endpoint, who: str) -> int:
    if endpoint.scope is None:
        return 200
    if who in ("none", "wrong", "malformed", "expired", "revoked"):
        return 401
    granted = SCOPES if who == "all" else (who,)
    return 200 if endpoint.scope in granted else 403


def test_each_endpoint_answers_each_credential_as_its_scope_says(
    store: Store, server: str, tokens: dict[str, str]
) -> None:
    # The revoked token was good until now: the server has already checked it once.
    with httpx.Client(timeout=30) as http:
        ok = http.post(
            server + "/graphql",
            json=_graphql("{ viewer { name } }"),
            headers={"authorization": f"Bearer {tokens['revoked']}"},
        )
        assert ok.json() == {"data": {"viewer": {"name": "token:gone"}}}
        Tokens(store).revoke("gone", by="cli:test")

        credentials: dict[str, str | None] = {
            "none": None,
            "wrong": f"Bearer {BOGUS}",
            "malformed": "Basic dXNlcjpwYXNz",
            **{who: f"Bearer {token}" for who, token in tokens.items()},
        }
        problems = []
        for endpoint in ENDPOINTS:
            for who, credential in credentials.items():
                runs_before = _runs(store)
                response = _send(http, server, endpoint, credential)
                want = _expected(endpoint, who)
                got = response.status_code
                if want == 200:
                    want = CREATED.get(endpoint.path, 200)
                if got != want:
                    problems.append(f"{endpoint.name} with {who}: {got}, want {want}")
                    continue
                if got in (401, 403):
                    problems += _check_refusal(endpoint, who, response)
                    if _runs(store) != runs_before:
                        problems.append(f"{endpoint.name} with {who}: a refused request wrote")
        assert problems == []

    # Refused links left nothing behind; the allowed ones are recorded under their tokens.
    with store.session() as s:
        links = s.scalars(select(t.AssetLink.linked_by)).all()
        audit = s.scalars(select(t.AuditEvent.principal).where(t.AuditEvent.action == "asset.link"))
        assert set(links) <= {"token:write", "token:all"}
        assert sorted(audit.all()) == ["token:all", "token:write"]


def _check_refusal(endpoint: Endpoint, who: str, response: httpx.Response) -> list[str]:
    where = f"{endpoint.name} with {who}"
    body = response.json()
    out = []
    code = "UNAUTHENTICATED" if response.status_code == 401 else "FORBIDDEN"
    if endpoint.graphql:
        [error] = body["errors"]
        if error["extensions"]["code"] != code:
            out.append(f"{where}: code {error['extensions']['code']}, want {code}")
        message = error["message"]
    else:
        message = body["error"]
    if response.status_code == 401:
        challenge = response.headers.get("www-authenticate", "")
        if not challenge.startswith('Bearer realm="tempox"'):
            out.append(f"{where}: WWW-Authenticate is {challenge!r}")
    reasons = {
        "none": "authentication required",
        "wrong": "unknown API token",
        "malformed": "must be 'Bearer <token>'",
        "expired": "API token 'old' expired at",
        "revoked": "API token 'gone' was revoked at",
    }
    reason = reasons.get(who, f"lacks the {endpoint.scope} scope")
    if reason not in message:
        out.append(f"{where}: message {message!r} does not say {reason!r}")
    if "tpx_" in message:
        out.append(f"{where}: the message quotes a token")
    return out


def test_an_open_server_lets_the_anonymous_client_do_everything_but_checks_a_token_it_is_sent(
    store: Store,
) -> None:
    seed(store)
    with serve(store, settings=PUSHABLE) as url, httpx.Client(timeout=30) as http:
        for endpoint in ENDPOINTS:
            response = _send(http, url, endpoint, None)
            assert response.status_code in (200, 201, 202), (endpoint.name, response.text)
        viewer = http.post(
            url + "/graphql", json=_graphql("{ viewer { name authenticated authRequired } }")
        ).json()
        assert viewer == {
            "data": {"viewer": {"name": "anonymous", "authenticated": False, "authRequired": False}}
        }
        # A client that sends a token must send a good one, open server or not.
        bad = _send(http, url, ENDPOINTS[2], f"Bearer {BOGUS}")
        assert bad.status_code == 401
        # A token sent to an open server names who did what.
        _, token = Tokens(store).create("ann", ["write"], by="cli:test")
        linked = _send(http, url, ENDPOINTS[4], f"Bearer {token}")
        assert linked.json() == {"data": {"linkAssets": {"linkedBy": "token:ann"}}}
        # The lineage edge the link makes names the token as its source.
        lineage = http.post(
            url + "/graphql",
            json=_graphql(
                f'{{ lineage(node: {{asset: "{RAW}"}}, depth: 1) {{ ... on LineageGraph {{'
                " edges { origins sources linkedBy } } } }"
            ),
        ).json()
        edges = lineage["data"]["lineage"]["edges"]
        assert {"origins": ["LINKED"], "sources": ["token:ann"], "linkedBy": ["token:ann"]} in (
            edges
        )


def test_last_use_is_recorded(store: Store, server: str, tokens: dict[str, str]) -> None:
    [before] = [r for r in Tokens(store).list() if r.name == "read"]
    assert before.last_used_at is None
    with httpx.Client(timeout=30) as http:
        for _ in range(3):
            response = _send(http, server, ENDPOINTS[2], f"Bearer {tokens['read']}")
            assert response.status_code == 200
    [after] = [r for r in Tokens(store).list() if r.name == "read"]
    assert after.last_used_at is not None
    assert utcnow() - after.last_used_at < timedelta(minutes=1)


def test_graphql_in_a_browser_needs_read(store: Store, server: str, tokens: dict[str, str]) -> None:
    with httpx.Client(timeout=30) as http:
        page = _send(http, server, ENDPOINTS[1], f"Bearer {tokens['read']}")
        assert page.status_code == 200
        assert "graphiql" in page.text.lower()
        assert _send(http, server, ENDPOINTS[1], None).status_code == 401
