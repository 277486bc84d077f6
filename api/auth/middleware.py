"""One middleware resolves who a request is; endpoints say what they need.

A request without ``Authorization`` is the anonymous client: on an open server it may do
everything (the laptop default), on a server that requires auth it may do nothing but
``/healthz``. A request with a bearer token must carry a valid one, whatever the posture: an
API token (``tpx_…``, checked against the database) or, with OIDC configured, a JWT.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable

from anyio import to_thread
from starlette.datastructures import Headers
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from api.auth.oidc import OidcVerifier
from api.refusal import Refusal
from catalog.auth.principal import ANONYMOUS, NOBODY, Principal
from catalog.auth.principal import Scope as Needed
from catalog.auth.tokens import InvalidToken, Tokens, looks_like_token
from catalog.config import AuthSettings

__all__ = ["AuthMiddleware", "Authenticator", "Denied", "principal_of", "requires"]

log = logging.getLogger("tempox.auth")

UNAUTHENTICATED = "UNAUTHENTICATED"
FORBIDDEN = "FORBIDDEN"
PUBLIC_PATHS = frozenset({"/healthz"})
GRAPHQL_PATH = "/graphql"


class Denied(Refusal):
    """A request refused: 401 (who are you?) or 403 (not allowed to)."""

    def __init__(self, status: int, message: str, *, invalid_token: bool = False) -> None:
        headers = {}
        if status == 401:
            # RFC 6750: say which scheme, and whether the token sent was the problem.
            error = ', error="invalid_token"' if invalid_token else ""
            headers["WWW-Authenticate"] = f'Bearer realm="tempox"{error}'
        code = UNAUTHENTICATED if status == 401 else FORBIDDEN
        super().__init__(status, code, message, headers=headers)
        self.invalid_token = invalid_token


class Authenticator:
    """Turns a request's ``Authorization`` header into a principal."""

    def __init__(self, tokens: Tokens, settings: AuthSettings | None) -> None:
        self.tokens = tokens
        self.settings = settings
        self.required = settings is not None and settings.required
        self.oidc = OidcVerifier(settings) if settings is not None and settings.oidc else None
        self.anonymous = NOBODY if self.required else ANONYMOUS

    async def authenticate(self, headers: Headers) -> Principal:
        header = headers.get("authorization")
        if header is None:
            return self.anonymous
        scheme, _, credentials = header.strip().partition(" ")
        credentials = credentials.strip()
        if scheme.lower() != "bearer" or not credentials:
            raise Denied(
                401, "the Authorization header must be 'Bearer <token>'", invalid_token=True
            )
        try:
            return await to_thread.run_sync(self._verify, credentials)
        except InvalidToken as exc:
            raise Denied(401, str(exc), invalid_token=True) from None

    def _verify(self, credentials: str) -> Principal:
        if looks_like_token(credentials) or self.oidc is None:
            return self.tokens.verify(credentials)
        return self.oidc.verify(credentials)

    def check(self, principal: Principal, needed: set[Needed] | frozenset[Needed]) -> None:
        """Raise :class:`Denied` unless ``principal`` may do what needs ``needed``."""
        if self.required and not principal.authenticated:
            raise Denied(401, "authentication required: send 'Authorization: Bearer <token>'")
        missing = sorted(s.value for s in needed if not principal.allows(s))
        if missing:
            has = ", ".join(sorted(s.value for s in principal.scopes)) or "none"
            raise Denied(
                403,
                f"{principal.describe()} lacks the {', '.join(missing)} scope (it has: {has})",
            )


class AuthMiddleware:
    """Puts the request's principal in ``request.state.principal``; refuses a bad token."""

    def __init__(self, app: ASGIApp, authenticator: Authenticator) -> None:
        self.app = app
        self.authenticator = authenticator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or scope["path"] in PUBLIC_PATHS:
            await self.app(scope, receive, send)
            return
        try:
            principal = await self.authenticator.authenticate(Headers(scope=scope))
            if scope["type"] == "websocket":  # no subscriptions: only an allowed reader
                self.authenticator.check(principal, {Needed.READ})
        except Denied as denied:
            if scope["type"] == "websocket":
                await send(
                    {"type": "websocket.close", "code": 4401 if denied.status == 401 else 4403}
                )
                return
            log.info("refused %s %s: %s", scope.get("method"), scope["path"], denied.message)
            await denied.response(scope["path"] == GRAPHQL_PATH)(scope, receive, send)
            return
        scope.setdefault("state", {})
        scope["state"]["principal"] = principal
        scope["state"]["authenticator"] = self.authenticator
        await self.app(scope, receive, send)


def principal_of(connection: HTTPConnection) -> Principal:
    """The request's principal (the anonymous client of an open server when no middleware)."""
    return getattr(connection.state, "principal", ANONYMOUS)


def authorize(connection: HTTPConnection, needed: set[Needed]) -> None:
    """Raise :class:`Denied` unless the request's principal may do what needs ``needed``."""
    authenticator: Authenticator | None = getattr(connection.state, "authenticator", None)
    if authenticator is not None:
        authenticator.check(principal_of(connection), needed)


Endpoint = Callable[[Request], Awaitable[Response]]


def requires(scope: Needed) -> Callable[[Endpoint], Endpoint]:
    """An endpoint that answers only principals holding ``scope`` (401/403 otherwise)."""

    def wrap(endpoint: Endpoint) -> Endpoint:
        @functools.wraps(endpoint)
        async def guarded(request: Request) -> Response:
            try:
                authorize(request, {scope})
            except Denied as denied:
                return denied.response(graphql=False)
            return await endpoint(request)

        guarded.required_scope = scope  # type: ignore[attr-defined]
        return guarded

    return wrap
