"""API tokens in the store, on SQLite and PostgreSQL: only a salted hash is kept, and a token
is refused once it is revoked or expired, with a reason that never quotes it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from catalog.auth.principal import Scope
from catalog.auth.tokens import InvalidToken, Tokens
from catalog.errors import InvalidArgument, NotFoundError
from catalog.store import tables as t
from catalog.store.store import Store

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def tokens(store: Store, clock: Clock) -> Tokens:
    return Tokens(store, clock=clock)


def test_a_token_is_shown_once_and_only_its_salted_hash_is_stored(
    store: Store, tokens: Tokens
) -> None:
    row, token = tokens.create("ci", ["read", "ingest"], by="cli:ann")
    again, other = tokens.create("ci-2", ["read", "ingest"], by="cli:ann")
    assert token.startswith("tpx_")
    assert len(token) > 50
    assert row.secret_hash.startswith("$argon2id$")
    assert row.secret_hash != again.secret_hash  # salted: no two hashes alike
    # Nowhere in the database: not in the token table, not in the audit log.
    with store.engine.connect() as conn:
        dumped = " ".join(
            str(r)
            for table in ("api_token", "audit_event")
            for r in conn.execute(text(f"select * from {table}"))
        )
    assert token not in dumped
    assert other not in dumped
    assert token.split("_", 2)[2] not in dumped  # not even the secret part (which may hold "_")
    assert tokens.verify(token).name == "token:ci"
    assert tokens.verify(token).scopes == frozenset({Scope.READ, Scope.INGEST})


def test_a_wrong_secret_with_a_real_key_id_is_refused(tokens: Tokens) -> None:
    _, token = tokens.create("ci", ["read"], by="cli:ann")
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    with pytest.raises(InvalidToken, match="unknown API token") as refused:
        tokens.verify(forged)
    assert forged not in str(refused.value)
    tokens.verify(token)  # a verified token in memory does not let a forged one through
    with pytest.raises(InvalidToken, match="unknown API token"):
        tokens.verify(forged)


@pytest.mark.parametrize("garbage", ["", "tpx_x", "Bearer x", "tpx_zz_" + "A" * 43, "x" * 5000])
def test_garbage_is_refused_without_being_quoted(tokens: Tokens, garbage: str) -> None:
    with pytest.raises(InvalidToken, match="not a Tempox API token") as refused:
        tokens.verify(garbage)
    if garbage:
        assert garbage not in str(refused.value)


def test_revoked_tokens_are_refused_and_their_name_can_be_used_again(
    tokens: Tokens, clock: Clock
) -> None:
    _, token = tokens.create("ci", ["read"], by="cli:ann")
    tokens.verify(token)
    clock.now = T0 + timedelta(hours=1)
    revoked = tokens.revoke("ci", by="token:admin")
    assert (revoked.revoked_at, revoked.revoked_by) == (clock.now, "token:admin")
    with pytest.raises(InvalidToken, match=r"API token 'ci' was revoked at 2026-11-01T10:00:00"):
        tokens.verify(token)
    with pytest.raises(NotFoundError, match="no active token named 'ci'"):
        tokens.revoke("ci", by="token:admin")
    _, fresh = tokens.create("ci", ["read"], by="cli:ann")
    assert tokens.verify(fresh).name == "token:ci"
    with pytest.raises(InvalidToken, match="revoked"):
        tokens.verify(token)
    assert [r.name for r in tokens.list()] == ["ci"]
    assert [(r.name, r.revoked_at is None) for r in tokens.list(include_revoked=True)] == [
        ("ci", False),
        ("ci", True),
    ]


def test_tokens_expire(tokens: Tokens, clock: Clock) -> None:
    row, token = tokens.create("temp", ["read"], by="cli:ann", expires_in=timedelta(days=30))
    assert row.expires_at == T0 + timedelta(days=30)
    clock.now = T0 + timedelta(days=29, hours=23)
    tokens.verify(token)
    clock.now = T0 + timedelta(days=30)
    with pytest.raises(InvalidToken, match=r"API token 'temp' expired at 2026-12-01T09:00:00"):
        tokens.verify(token)


def test_last_use_is_recorded_at_most_once_a_minute(
    store: Store, tokens: Tokens, clock: Clock
) -> None:
    _, token = tokens.create("ci", ["read"], by="cli:ann")

    def last_used() -> datetime | None:
        with store.session() as s:
            return s.scalars(select(t.ApiToken.last_used_at)).one()

    assert last_used() is None
    tokens.verify(token)
    assert last_used() == T0
    clock.now = T0 + timedelta(seconds=30)
    tokens.verify(token)
    assert last_used() == T0
    clock.now = T0 + timedelta(minutes=2)
    tokens.verify(token)
    assert last_used() == T0 + timedelta(minutes=2)


@pytest.mark.parametrize(
    ("name", "scopes", "expires", "argument", "problem"),
    [
        ("ci", ["root"], None, "scope", "unknown scope 'root'"),
        ("ci", [], None, "scope", "at least one scope"),
        ("bad name", ["read"], None, "name", "a token name is"),
        ("", ["read"], None, "name", "a token name is"),
        ("ci", ["read"], timedelta(0), "expires", "in the future"),
    ],
)
def test_a_token_that_cannot_be_made_names_the_problem(
    store: Store,
    tokens: Tokens,
    name: str,
    scopes: list[str],
    expires: timedelta | None,
    argument: str,
    problem: str,
) -> None:
    with pytest.raises(InvalidArgument, match=problem) as refused:
        tokens.create(name, scopes, by="cli:ann", expires_in=expires)
    assert refused.value.argument == argument
    assert tokens.list(include_revoked=True) == []


def test_two_active_tokens_cannot_share_a_name_and_nothing_is_half_written(
    store: Store, tokens: Tokens
) -> None:
    tokens.create("ci", ["read"], by="cli:ann")
    with pytest.raises(InvalidArgument, match="a token named 'ci' exists already"):
        tokens.create("ci", ["admin"], by="cli:ann")
    with store.session() as s:
        actions = s.scalars(select(t.AuditEvent.action)).all()
    assert actions == ["token.create"]  # the refused one left no audit row either


def test_creation_and_revocation_are_audited(store: Store, tokens: Tokens, clock: Clock) -> None:
    tokens.create("ci", ["read", "ingest"], by="cli:ann", expires_in=timedelta(hours=1))
    tokens.revoke("ci", by="oidc:bob")
    with store.session() as s:
        rows = s.scalars(select(t.AuditEvent).order_by(t.AuditEvent.id)).all()  # type: ignore[arg-type]
    assert [(r.principal, r.action, r.target, r.at) for r in rows] == [
        ("cli:ann", "token.create", "ci", T0),
        ("oidc:bob", "token.revoke", "ci", T0),
    ]
    assert rows[0].detail == {
        "scopes": ["ingest", "read"],
        "expires_at": "2026-11-01T10:00:00+00:00",
    }
