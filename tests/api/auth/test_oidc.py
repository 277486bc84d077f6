"""Single sign-on: JWTs signed by an identity provider whose keys (a JWKS) are a file or a URL.

The keys are made here (RSA 2048 and EC P-256) and the tokens signed with PyJWT; the URL is a
small HTTP server on 127.0.0.1 that plays the identity provider's key endpoint and counts how
often it is asked. Every refusal is checked for its status, its GraphQL code, its challenge,
a message that names the problem without quoting the token, and nothing written.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from sqlalchemy import func, select
from starlette.testclient import TestClient

from api.app import create_app
from catalog.config import AuthSettings, parse_settings
from catalog.errors import ConfigError
from catalog.service import Catalog
from catalog.store import tables as t
from catalog.store.store import Store
from tests.api.conftest import OPERATIONS
from tests.api.estate import DASHBOARD, RAW

ISSUER = "https://idp.example/realms/data"
AUDIENCE = "tempox"
SUBJECT = "ada@example.com"
ROLES = {
    "analysts": ("read",),
    "data-eng": ("read", "write"),
    "platform": ("read", "admin"),
    "bots": ("ingest",),
}
VIEWER = "{ viewer { name authenticated scopes authRequired } }"
LINK = (OPERATIONS / "LinkAssets.graphql").read_text()
AUDIT = '{ auditLog(action: "asset.link") { nodes { principal action target } } }'
CHALLENGE = 'Bearer realm="tempox", error="invalid_token"'

Signer = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


@dataclass(frozen=True)
class Key:
    kid: str
    alg: str
    private: Signer

    def jwk(self) -> dict[str, Any]:
        public = self.private.public_key()
        if isinstance(public, rsa.RSAPublicKey):
            data = RSAAlgorithm.to_jwk(public, as_dict=True)
        else:
            data = ECAlgorithm.to_jwk(public, as_dict=True)
        return {**data, "kid": self.kid, "alg": self.alg, "use": "sig"}

    def pem(self) -> bytes:
        return self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


def _rsa(kid: str) -> Key:
    return Key(kid, "RS256", rsa.generate_private_key(public_exponent=65537, key_size=2048))


def _ec(kid: str) -> Key:
    return Key(kid, "ES256", ec.generate_private_key(ec.SECP256R1()))


def _jwks(*keys: Key) -> dict[str, Any]:
    return {"keys": [k.jwk() for k in keys]}


def _claims(**overrides: Any) -> dict[str, Any]:
    """Claims of a good token; an override of None leaves that claim out."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": SUBJECT,
        "iat": now,
        "exp": now + 300,
        "groups": ["analysts"],
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def mint(key: Key, *, kid: str | None = None, alg: str | None = None, **claims: Any) -> str:
    headers = {"kid": key.kid if kid is None else kid}
    return jwt.encode(_claims(**claims), key.private, algorithm=alg or key.alg, headers=headers)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned(header: dict[str, Any], claims: dict[str, Any]) -> str:
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"


def forge_none(kid: str) -> str:
    """``alg: none``: no signature at all."""
    return _unsigned({"alg": "none", "typ": "JWT", "kid": kid}, _claims()) + "."


def forge_alg(alg: str, kid: str) -> str:
    """A header naming ``alg`` for a key of another kind (the signature does not matter)."""
    return _unsigned({"alg": alg, "typ": "JWT", "kid": kid}, _claims()) + "." + _b64(b"x" * 64)


def forge_hs256(secret: bytes, kid: str) -> str:
    """HS256 keyed with the public key's PEM: anyone has it, so anyone could sign this."""
    signing_input = _unsigned({"alg": "HS256", "typ": "JWT", "kid": kid}, _claims())
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(mac)}"


# -- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rsa_key() -> Key:
    return _rsa("rsa-1")


@pytest.fixture(scope="module")
def ec_key() -> Key:
    return _ec("ec-1")


@pytest.fixture(scope="module")
def stranger() -> Key:
    """A key the identity provider never published."""
    return _rsa("rsa-1")  # and it even claims the trusted key's id


@pytest.fixture
def jwks_file(tmp_path: Path, rsa_key: Key, ec_key: Key) -> Path:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(_jwks(rsa_key, ec_key)), encoding="utf-8")
    return path


@pytest.fixture
def empty_catalog(sqlite_url: str) -> Iterator[Catalog]:
    """An unseeded catalog on SQLite, for what concerns sign-in only."""
    store = Store(sqlite_url)
    yield Catalog(store)
    store.close()


def oidc(jwks: str | Path, **overrides: Any) -> AuthSettings:
    fields: dict[str, Any] = {
        "required": True,
        "oidc_issuer": ISSUER,
        "oidc_audience": AUDIENCE,
        "oidc_jwks": str(jwks),
        "oidc_scopes_claim": "groups",
        "oidc_roles": ROLES,
    }
    fields.update(overrides)
    return AuthSettings(**fields)


def _post(
    http: TestClient, token: str | None, query: str, variables: dict[str, Any] | None = None
) -> Any:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    return http.post("/graphql", json={"query": query, "variables": variables}, headers=headers)


def _viewer(http: TestClient, token: str) -> dict[str, Any]:
    response = _post(http, token, VIEWER)
    assert response.status_code == 200, response.text
    viewer: dict[str, Any] = response.json()["data"]["viewer"]
    return viewer


def _error(response: Any, status: int) -> str:
    assert response.status_code == status, response.text
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == ("UNAUTHENTICATED" if status == 401 else "FORBIDDEN")
    message: str = error["message"]
    return message


def _written(store: Store) -> tuple[int, int]:
    """Links and audit events: what a mutation leaves behind."""
    with store.session() as s:
        links = s.execute(select(func.count()).select_from(t.AssetLink)).scalar_one()
        audit = s.execute(select(func.count()).select_from(t.AuditEvent)).scalar_one()
    return int(links), int(audit)


# -- a valid token ------------------------------------------------------------------------------


def test_a_valid_jwt_signs_in_as_its_subject_with_the_scopes_its_roles_grant(
    empty_catalog: Catalog, jwks_file: Path, rsa_key: Key, ec_key: Key
) -> None:
    with TestClient(create_app(catalog=empty_catalog, auth=oidc(jwks_file))) as http:
        # Unknown groups grant nothing; known ones grant the union of their scopes.
        token = mint(rsa_key, groups=["analysts", "bots", "coffee-club"])
        assert _viewer(http, token) == {
            "name": f"oidc:{SUBJECT}",
            "authenticated": True,
            "scopes": ["READ", "INGEST"],  # in the enum's order
            "authRequired": True,
        }
        # The EC key of the same JWKS works as well as the RSA one.
        assert _viewer(http, mint(ec_key, groups=["data-eng"]))["scopes"] == ["READ", "WRITE"]
        # No groups at all: signed in, but allowed nothing beyond `viewer`.
        nobody = mint(rsa_key, groups=None)
        assert _viewer(http, nobody)["scopes"] == []
        message = _error(_post(http, nobody, "{ sources { totalCount } }"), 403)
        assert message == f"oidc:{SUBJECT} lacks the read scope (it has: none)"
        # Within the leeway (30 s by default) clocks may disagree a little.
        now = int(time.time())
        assert _viewer(http, mint(rsa_key, exp=now - 10))["name"] == f"oidc:{SUBJECT}"
        assert _viewer(http, mint(rsa_key, nbf=now + 10))["name"] == f"oidc:{SUBJECT}"


def test_the_roles_decide_what_a_sign_in_may_write_and_the_link_records_who(
    catalog: Catalog, jwks_file: Path, rsa_key: Key
) -> None:
    variables = {"uri": RAW, "other": DASHBOARD, "note": "same table"}
    with TestClient(create_app(catalog=catalog, auth=oidc(jwks_file))) as http:
        reader = mint(rsa_key, groups=["analysts"])
        message = _error(_post(http, reader, LINK, variables), 403)
        assert message == f"oidc:{SUBJECT} lacks the write scope (it has: read)"
        assert _written(catalog.store) == (0, 0)
        # Nor may a reader see the audit log.
        assert "lacks the admin scope" in _error(_post(http, reader, AUDIT), 403)

        writer = mint(rsa_key, groups=["data-eng"])
        response = _post(http, writer, LINK, variables)
        assert response.status_code == 200, response.text
        link = response.json()["data"]["linkAssets"]
        assert (link["linkedBy"], link["note"]) == (f"oidc:{SUBJECT}", "same table")
        assert link["other"]["uri"] == DASHBOARD
        assert _written(catalog.store) == (1, 1)

        admin = mint(rsa_key, sub="grace", groups=["platform"])
        response = _post(http, admin, AUDIT)
        assert response.status_code == 200, response.text
        [event] = response.json()["data"]["auditLog"]["nodes"]
        assert (event["principal"], event["action"]) == (f"oidc:{SUBJECT}", "asset.link")


@pytest.mark.parametrize(
    ("claim", "granted"),
    [
        ("read write openid profile", ["READ", "WRITE"]),  # as OAuth's `scope` is spelled
        ("  admin\tread  ", ["READ", "ADMIN"]),
        (["read", "ingest", "offline_access"], ["READ", "INGEST"]),
        (["READ", "Write"], []),  # scope names are lower case, as the docs spell them
        ([], []),
        ({"read": True}, []),  # neither a string nor a list
        (7, []),
    ],
)
def test_without_a_role_map_claim_values_that_are_scope_names_grant_themselves(
    empty_catalog: Catalog, jwks_file: Path, rsa_key: Key, claim: Any, granted: list[str]
) -> None:
    auth = oidc(jwks_file, oidc_scopes_claim="scope", oidc_roles={})
    with TestClient(create_app(catalog=empty_catalog, auth=auth)) as http:
        # `groups` holds role names that would mean something with a role map: not here.
        token = mint(rsa_key, scope=claim, groups=["data-eng"])
        assert _viewer(http, token)["scopes"] == granted


# -- bad tokens ---------------------------------------------------------------------------------


BadToken = Callable[[Key, Key, Key], str]
NOW = int(time.time())

BAD_TOKENS: dict[str, tuple[BadToken, str]] = {
    "expired beyond the leeway": (
        lambda k, _e, _s: mint(k, iat=NOW - 3600, exp=NOW - 120),
        "the JWT has expired",
    ),
    "not yet valid": (
        lambda k, _e, _s: mint(k, nbf=int(time.time()) + 600),
        "the JWT is not valid: The token is not yet valid (nbf)",
    ),
    "wrong audience": (
        lambda k, _e, _s: mint(k, aud="another-app"),
        f"the JWT is not for this audience ({AUDIENCE})",
    ),
    "no audience": (
        lambda k, _e, _s: mint(k, aud=None),
        'the JWT is not valid: Token is missing the "aud" claim',
    ),
    "wrong issuer": (
        lambda k, _e, _s: mint(k, iss="https://evil.example/"),
        f"the JWT was not issued by {ISSUER}",
    ),
    "no expiry": (
        lambda k, _e, _s: mint(k, exp=None),
        'the JWT is not valid: Token is missing the "exp" claim',
    ),
    "signed by another key": (
        lambda _k, _e, s: mint(s),
        "the JWT is not valid: Signature verification failed",
    ),
    "a key id the JWKS lacks": (
        lambda k, _e, _s: mint(k, kid="rotated-away"),
        "the JWT is signed with a key the JWKS file does not hold ('rotated-away')",
    ),
    "alg none": (
        lambda k, _e, _s: forge_none(k.kid),
        "the JWT is not valid: The specified alg value is not allowed",
    ),
    "HS256 keyed with the public key": (
        lambda k, _e, _s: forge_hs256(k.pem(), k.kid),
        "the JWT is not valid: The specified alg value is not allowed",
    ),
    # A header naming an algorithm of another kind of key: refused, not a 500.
    "ES256 naming the RSA key": (
        lambda k, e, _s: mint(e, kid=k.kid),
        "the JWT's algorithm does not fit the key it names",
    ),
    "RS256 naming the EC key": (
        lambda _k, e, s: mint(s, kid=e.kid),
        "the JWT's algorithm does not fit the key it names",
    ),
    "ES384 naming the P-256 key": (
        lambda _k, e, _s: forge_alg("ES384", e.kid),
        "the JWT's algorithm does not fit the key it names",
    ),
    "missing sub": (
        lambda k, _e, _s: mint(k, sub=None),
        "the JWT has no 'sub' claim",
    ),
    "empty sub": (
        lambda k, _e, _s: mint(k, sub=""),
        "the JWT has no 'sub' claim",
    ),
    "garbage": (
        lambda _k, _e, _s: "garbage-not-a-jwt",
        "the JWT is not valid: Not enough segments",
    ),
    "garbage with dots": (
        lambda _k, _e, _s: "eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl",
        "the JWT is not valid: Invalid header",
    ),
}


@pytest.mark.parametrize("case", BAD_TOKENS)
def test_a_bad_jwt_is_a_401_that_names_the_problem_and_writes_nothing(
    catalog: Catalog,
    jwks_file: Path,
    rsa_key: Key,
    ec_key: Key,
    stranger: Key,
    case: str,
) -> None:
    make, reason = BAD_TOKENS[case]
    token = make(rsa_key, ec_key, stranger)
    variables = {"uri": RAW, "other": DASHBOARD}
    with TestClient(create_app(catalog=catalog, auth=oidc(jwks_file))) as http:
        # Even a role that could write gets nowhere with a token that is not valid.
        for query, variables_ in ((LINK, variables), (VIEWER, None)):
            response = _post(http, token, query, variables_)
            message = _error(response, 401)
            assert message.startswith(reason), message
            assert response.headers["www-authenticate"] == CHALLENGE
            assert token not in message
            for part in token.split("."):
                assert len(part) < 8 or part not in message, message
    assert _written(catalog.store) == (0, 0)


# -- keys by URL --------------------------------------------------------------------------------


class KeyEndpoint:
    """The identity provider's JWKS URL: serves ``jwks`` and counts the requests."""

    def __init__(self, jwks: dict[str, Any]) -> None:
        self.jwks = jwks
        self.requests = 0
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                endpoint.requests += 1
                body = json.dumps(endpoint.jwks).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/protocol/openid-connect/certs"

    def __enter__(self) -> KeyEndpoint:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


class Monotonic:
    """``time.monotonic`` for PyJWT's key client, ``ahead`` seconds in the future."""

    def __init__(self) -> None:
        self.ahead = 0.0

    def monotonic(self) -> float:
        return time.monotonic() + self.ahead


def test_keys_by_url_are_fetched_once_cached_and_refetched_for_a_new_key_id(
    empty_catalog: Catalog, rsa_key: Key, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Monotonic()  # what PyJWT's key client and its cache read the time from
    for module in (jwt.jwks_client, jwt.jwk_set_cache, jwt.api_jwk):
        monkeypatch.setattr(module, "time", clock)
    with KeyEndpoint(_jwks(rsa_key)) as idp:
        app = create_app(catalog=empty_catalog, auth=oidc(idp.url))
        with TestClient(app) as http:
            assert idp.requests == 0  # nothing fetched before a token needs it
            assert _viewer(http, mint(rsa_key))["name"] == f"oidc:{SUBJECT}"
            assert idp.requests == 1
            assert _viewer(http, mint(rsa_key, sub="grace"))["name"] == "oidc:grace"
            assert idp.requests == 1  # cached

            # A key id the provider does not publish is refused; right after a fetch it does
            # not even make the keys refetched (PyJWT's 30 s cooldown spares the provider).
            response = _post(http, mint(rsa_key, kid="nobody-knows"), VIEWER)
            message = _error(response, 401)
            assert message.startswith("the identity provider's keys: "), message
            assert "nobody-knows" in message
            assert response.headers["www-authenticate"] == CHALLENGE
            assert idp.requests == 1

            # The provider rotates a new key in: once the cooldown is over, a token naming it
            # makes the keys refetched, and then the new key is cached as the old one was.
            rotated = _rsa("rsa-2")
            idp.jwks = _jwks(rsa_key, rotated)
            clock.ahead = 31
            assert _viewer(http, mint(rotated, groups=["data-eng"]))["scopes"] == [
                "READ",
                "WRITE",
            ]
            assert idp.requests == 2
            assert _viewer(http, mint(rotated))["name"] == f"oidc:{SUBJECT}"
            assert _viewer(http, mint(rsa_key))["name"] == f"oidc:{SUBJECT}"
            assert idp.requests == 2

            # Past the cache's lifespan (5 minutes) the keys are fetched again, once.
            clock.ahead += 301
            assert _viewer(http, mint(rsa_key))["name"] == f"oidc:{SUBJECT}"
            assert _viewer(http, mint(rotated))["name"] == f"oidc:{SUBJECT}"
            assert idp.requests == 3


def test_an_unreachable_key_url_is_a_401_naming_the_identity_provider(
    empty_catalog: Catalog, rsa_key: Key
) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    auth = oidc(f"http://127.0.0.1:{port}/jwks.json")
    with TestClient(create_app(catalog=empty_catalog, auth=auth)) as http:
        token = mint(rsa_key)
        response = _post(http, token, VIEWER)
        message = _error(response, 401)
        assert message.startswith("the identity provider's keys: "), message
        assert token not in message


# -- a JWKS file that is not one ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "cannot read"),
        ("{ not json", "is not a JWKS"),
        ('{"keys": []}', "is not a JWKS"),
        ('{"keys": [{"kty": "nope", "kid": "x"}]}', "is not a JWKS"),
        ("[]", "is not a JWKS"),
        ('"keys"', "is not a JWKS"),
        ("42", "is not a JWKS"),
    ],
)
def test_a_jwks_file_that_cannot_be_used_is_a_config_error_naming_it(
    empty_catalog: Catalog, tmp_path: Path, content: str | None, problem: str
) -> None:
    path = tmp_path / "idp-keys.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        create_app(catalog=empty_catalog, auth=oidc(path))
    message = str(raised.value)
    assert message.startswith("[auth] oidc_jwks: "), message
    assert str(path) in message
    assert problem in message


def test_a_single_key_file_without_a_key_id_verifies_tokens_without_one(
    empty_catalog: Catalog, tmp_path: Path, ec_key: Key
) -> None:
    path = tmp_path / "key.json"
    jwk = {k: v for k, v in ec_key.jwk().items() if k != "kid"}
    path.write_text(json.dumps(jwk), encoding="utf-8")
    token = jwt.encode(_claims(), ec_key.private, algorithm="ES256")
    with TestClient(create_app(catalog=empty_catalog, auth=oidc(path))) as http:
        assert _viewer(http, token)["name"] == f"oidc:{SUBJECT}"


# -- settings -----------------------------------------------------------------------------------


def _auth(**keys: Any) -> AuthSettings | None:
    return parse_settings({"auth": keys}).auth


GOOD = {"oidc_issuer": ISSUER, "oidc_audience": AUDIENCE, "oidc_jwks": "/etc/tempox/jwks.json"}


@pytest.mark.parametrize(
    "given",
    [
        ["oidc_issuer"],
        ["oidc_audience"],
        ["oidc_jwks"],
        ["oidc_issuer", "oidc_audience"],
        ["oidc_issuer", "oidc_jwks"],
        ["oidc_audience", "oidc_jwks"],
    ],
)
def test_issuer_audience_and_jwks_go_together(given: list[str]) -> None:
    with pytest.raises(ConfigError, match="oidc_issuer, oidc_audience and oidc_jwks go together"):
        _auth(**{k: GOOD[k] for k in given})


@pytest.mark.parametrize("algorithm", ["HS256", "HS512", "none"])
def test_only_public_key_algorithms_are_allowed(algorithm: str) -> None:
    with pytest.raises(ConfigError, match=f"{algorithm} not allowed"):
        _auth(**GOOD, oidc_algorithms=["RS256", algorithm])


def test_a_role_may_grant_only_known_scopes() -> None:
    roles = {"data-eng": ["read", "write"], "root": ["read", "superuser"]}
    with pytest.raises(ConfigError, match=r"oidc_roles\.root: unknown scope 'superuser'"):
        _auth(**GOOD, oidc_roles=roles)


def test_complete_oidc_settings_parse() -> None:
    auth = _auth(**GOOD, oidc_scopes_claim="groups", oidc_roles={"data-eng": ["read", "write"]})
    assert auth is not None
    assert auth.required
    assert auth.oidc
    assert auth.oidc_roles == {"data-eng": ("read", "write")}
    assert _auth() is not None  # [auth] alone: tokens only
    assert not _auth().oidc  # type: ignore[union-attr]
