"""Whether a server may start as configured, and the one line that says how it is protected.

No ``[auth]``: open, which is only safe where nobody else can connect, so only on a loopback
address unless the operator says ``--insecure``. With ``[auth] required``: every endpoint but
``/healthz`` needs a token.
"""

from __future__ import annotations

import ipaddress

from catalog.config import AuthSettings
from catalog.errors import ConfigError

__all__ = ["check_posture", "is_loopback"]


def is_loopback(host: str) -> bool:
    """Whether ``host`` is an address only this machine can reach (``localhost``, 127.x, ::1)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may well resolve to a public address


def check_posture(
    host: str, auth: AuthSettings | None, *, insecure: bool, active_tokens: int
) -> str:
    """The line to print at start; :class:`ConfigError` when the server must not start open."""
    required = auth is not None and auth.required
    if required:
        assert auth is not None
        ways = "API tokens" + (f" or OIDC JWTs from {auth.oidc_issuer}" if auth.oidc else "")
        line = f"auth: required ({ways}); {active_tokens} active API token(s)"
        if active_tokens == 0 and not auth.oidc:
            line += (
                "; create one with `tempox token create --name admin --scope admin "
                "--scope read --scope write`"
            )
        return line
    if is_loopback(host):
        return (
            f"auth: off. Open to anyone on this machine ({host} is a loopback address); "
            "add an [auth] section to require tokens"
        )
    if not insecure:
        raise ConfigError(
            f"refusing to serve on {host} without auth: anyone who can reach it could read and "
            "change the catalog. Add `[auth] required = true` (or set TEMPOX_AUTH_REQUIRED=1) "
            "and create a token with `tempox token create`, or pass --insecure"
        )
    return (
        f"WARNING auth: off on {host} (--insecure): anyone who can reach this port can read "
        "the catalog and change it"
    )
