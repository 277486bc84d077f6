"""API tokens: created, listed, revoked and verified; only a salted hash is ever stored.

A token reads ``tpx_<key id>_<secret>``. The key id (12 hex digits, not secret) finds the row
in one indexed lookup; the whole token is then checked against the row's Argon2id hash
(argon2-cffi). Tokens are 256-bit random, so the hash guards the database's copy, not a
guessable password: its cost is kept low, and a token already verified in this process is
recognised by a SHA-256 digest held in memory, so a request costs one primary-key read (which
still sees a revocation or expiry at once), not an Argon2 computation.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cachetools import LRUCache
from sqlalchemy.exc import IntegrityError, OperationalError

from catalog.auth.principal import Principal, Scope, parse_scopes
from catalog.errors import InvalidArgument, NotFoundError, TempoxError
from catalog.store import tables as t
from catalog.store.audit import write_audit
from catalog.store.store import Store, utcnow
from catalog.store.tokens import (
    create_token,
    read_active_token_by_name,
    read_token_by_key,
    read_tokens,
    revoke_token,
    touch_token,
)

__all__ = ["PREFIX", "InvalidToken", "Tokens", "looks_like_token"]

PREFIX = "tpx_"
_TOKEN = re.compile(r"tpx_(?P<key>[0-9a-f]{12})_(?P<secret>[A-Za-z0-9_-]{43})")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@:-]{0,99}")
# Argon2id at 19 MiB and two passes: OWASP's floor for passwords, ample for random tokens.
_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
TOUCH_EVERY = timedelta(minutes=1)

log = logging.getLogger("tempox.auth")


class InvalidToken(TempoxError):
    """A bearer token that does not let its holder in; the message says why, never the token."""


def looks_like_token(value: str) -> bool:
    """Whether ``value`` is shaped like a Tempox API token (rather than, say, a JWT)."""
    return value.startswith(PREFIX)


def principal_of(row: t.ApiToken) -> Principal:
    return Principal(f"token:{row.name}", frozenset(Scope(s) for s in row.scopes))


class Tokens:
    """The API tokens of one catalog database."""

    def __init__(self, store: Store, *, clock: Callable[[], datetime] = utcnow) -> None:
        self.store = store
        self.clock = clock
        self._verified: LRUCache[str, bytes] = LRUCache(maxsize=4096)
        self._lock = threading.Lock()

    def create(
        self,
        name: str,
        scopes: Iterable[str],
        *,
        by: str,
        expires_in: timedelta | None = None,
    ) -> tuple[t.ApiToken, str]:
        """A new token named ``name``: its row and the token itself, which is shown only now."""
        if not _NAME.fullmatch(name):
            raise InvalidArgument(
                "name",
                f"{name!r}: a token name is 1 to 100 letters, digits and . _ @ : - "
                "(starting with a letter or digit)",
            )
        granted = parse_scopes(scopes)
        if expires_in is not None and expires_in <= timedelta(0):
            raise InvalidArgument("expires", "must be in the future")
        key_id = secrets.token_hex(6)
        token = f"{PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
        now = self.clock()
        expires_at = now + expires_in if expires_in is not None else None
        row = {
            "name": name,
            "key_id": key_id,
            "secret_hash": _HASHER.hash(token),
            "scopes": sorted(s.value for s in granted),
            "created_at": now,
            "created_by": by,
            "expires_at": expires_at,
        }
        try:
            with self.store.transaction() as conn:
                create_token(conn, row)
                write_audit(
                    conn,
                    at=now,
                    principal=by,
                    action="token.create",
                    target=name,
                    detail={"scopes": row["scopes"], "expires_at": _iso(expires_at)},
                )
                created = read_token_by_key(conn, key_id)
        except IntegrityError:
            raise InvalidArgument(
                "name", f"a token named {name!r} exists already: revoke it first"
            ) from None
        assert created is not None
        return created, token

    def list(self, *, include_revoked: bool = False) -> Sequence[t.ApiToken]:
        with self.store.session() as s:
            return read_tokens(s, include_revoked=include_revoked)

    def revoke(self, name: str, *, by: str) -> t.ApiToken:
        """Revoke the active token named ``name``; a :class:`NotFoundError` if there is none."""
        now = self.clock()
        with self.store.transaction() as conn:
            row = read_active_token_by_name(conn, name)
            if row is None or row.id is None or not revoke_token(conn, row.id, at=now, by=by):
                raise NotFoundError(f"no active token named {name!r}")
            write_audit(conn, at=now, principal=by, action="token.revoke", target=name)
            revoked = read_token_by_key(conn, row.key_id)
        assert revoked is not None
        return revoked

    def verify(self, token: str) -> Principal:
        """The principal a bearer token stands for; :class:`InvalidToken` says why not."""
        match = _TOKEN.fullmatch(token)
        if match is None:
            raise InvalidToken("the bearer token is not a Tempox API token (tpx_…)")
        key_id = match["key"]
        with self.store.engine.connect() as conn:
            row = read_token_by_key(conn, key_id)
        if row is None or not self._matches(key_id, token, row.secret_hash):
            raise InvalidToken("unknown API token")
        now = self.clock()
        if row.revoked_at is not None:
            raise InvalidToken(f"API token {row.name!r} was revoked at {_iso(row.revoked_at)}")
        if row.expires_at is not None and row.expires_at <= now:
            raise InvalidToken(f"API token {row.name!r} expired at {_iso(row.expires_at)}")
        if row.id is not None and (
            row.last_used_at is None or row.last_used_at < now - TOUCH_EVERY
        ):
            self._touch(row.id, now)
        return principal_of(row)

    def _touch(self, token_id: int, now: datetime) -> None:
        # Only when the last record is a minute old, in its own short transaction: a write on
        # every request would queue behind a sync's batches. A busy database costs the record
        # of one use, never the request.
        try:
            with self.store.transaction() as conn:
                touch_token(conn, token_id, at=now, every=TOUCH_EVERY)
        except OperationalError:
            log.debug("could not record the use of token %d", token_id, exc_info=True)

    def _matches(self, key_id: str, token: str, secret_hash: str) -> bool:
        digest = hashlib.sha256(token.encode()).digest()
        with self._lock:
            known = self._verified.get(key_id)
        if known is not None and hmac.compare_digest(known, digest):
            return True
        try:
            _HASHER.verify(secret_hash, token)
        except (VerificationError, InvalidHashError):
            return False
        with self._lock:
            self._verified[key_id] = digest
        return True


def _iso(at: datetime | None) -> str | None:
    return at.isoformat(timespec="seconds") if at is not None else None
