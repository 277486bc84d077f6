"""Single sign-on: bearer JWTs signed by the organisation's identity provider (OIDC).

The keys come from ``[auth] oidc_jwks``: a JWKS URL (fetched and cached for five minutes by
PyJWT's ``PyJWKClient``, refetched when a token names a key it has not seen, at most once in
30 s so made-up key ids cannot flood the identity provider) or a JSON file. Only
public-key algorithms are accepted, and the issuer, audience, expiry and not-before are always
checked. Scopes come from one claim (``oidc_scopes_claim``): each value is a role that
``oidc_roles`` maps to scopes, or, with no role map, a scope name itself.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import jwt
from jwt import PyJWK, PyJWKClient, PyJWKSet

from catalog.auth.principal import Principal, Scope
from catalog.auth.tokens import InvalidToken
from catalog.config import AuthSettings
from catalog.errors import ConfigError

__all__ = ["OidcVerifier"]

JWKS_TIMEOUT_S = 10
JWKS_CACHE_S = 300


class OidcVerifier:
    def __init__(self, settings: AuthSettings) -> None:
        issuer, audience, source = settings.oidc_issuer, settings.oidc_audience, settings.oidc_jwks
        if issuer is None or audience is None or source is None:
            raise ConfigError("[auth] oidc_issuer, oidc_audience and oidc_jwks go together")
        self.settings = settings
        self.issuer = issuer
        self.audience = audience
        self._client: PyJWKClient | None = None
        self._keys: PyJWKSet | None = None
        if source.startswith(("https://", "http://")):
            self._client = PyJWKClient(source, lifespan=JWKS_CACHE_S, timeout=JWKS_TIMEOUT_S)
        else:
            self._keys = _read_jwks_file(Path(source))

    def verify(self, token: str) -> Principal:
        """The principal of a valid JWT (blocking: may fetch keys); :class:`InvalidToken`."""
        try:
            key = self._signing_key(token)
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=list(self.settings.oidc_algorithms),
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.settings.oidc_leeway,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise InvalidToken("the JWT has expired") from None
        except jwt.InvalidAudienceError:
            raise InvalidToken(f"the JWT is not for this audience ({self.audience})") from None
        except jwt.InvalidIssuerError:
            raise InvalidToken(f"the JWT was not issued by {self.issuer}") from None
        except jwt.PyJWKClientError as exc:
            raise InvalidToken(f"the identity provider's keys: {exc}") from None
        except (TypeError, jwt.InvalidKeyError):
            # The header names an algorithm for another kind of key (ES256 on an RSA key,
            # ES384 on a P-256 key): PyJWT's prepare_key raises these, not InvalidTokenError.
            raise InvalidToken("the JWT's algorithm does not fit the key it names") from None
        except jwt.InvalidTokenError as exc:
            raise InvalidToken(f"the JWT is not valid: {exc}") from None
        subject = claims.get(self.settings.oidc_principal_claim)
        if not isinstance(subject, str) or not subject:
            raise InvalidToken(f"the JWT has no {self.settings.oidc_principal_claim!r} claim")
        return Principal(
            f"oidc:{subject}", self.scopes(claims.get(self.settings.oidc_scopes_claim))
        )

    def scopes(self, claim: object) -> frozenset[Scope]:
        values = _values(claim)
        roles = self.settings.oidc_roles
        if roles:
            return frozenset(Scope(s) for v in values for s in roles.get(v, ()))
        known = {s.value for s in Scope}
        return frozenset(Scope(v) for v in values if v in known)

    def _signing_key(self, token: str) -> PyJWK:
        if self._client is not None:
            return self._client.get_signing_key_from_jwt(token)
        assert self._keys is not None
        kid = jwt.get_unverified_header(token).get("kid")
        if kid is None and len(self._keys.keys) == 1:
            return self._keys.keys[0]
        for key in self._keys.keys:
            if key.key_id == kid:
                return key
        raise InvalidToken(f"the JWT is signed with a key the JWKS file does not hold ({kid!r})")


def _values(claim: object) -> list[str]:
    if isinstance(claim, str):
        return claim.split()
    if isinstance(claim, Iterable) and not isinstance(claim, bytes | dict):
        return [v for v in claim if isinstance(v, str)]
    return []


def _read_jwks_file(path: Path) -> PyJWKSet:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):  # a list, string or number: PyJWKSet would TypeError
            raise ValueError("it holds no JSON object")
        return PyJWKSet.from_dict(data if "keys" in data else {"keys": [data]})
    except OSError as exc:
        raise ConfigError(f"[auth] oidc_jwks: cannot read {path}: {exc.strerror}") from None
    except (ValueError, jwt.PyJWKSetError, jwt.InvalidKeyError) as exc:
        raise ConfigError(f"[auth] oidc_jwks: {path} is not a JWKS: {exc}") from None
