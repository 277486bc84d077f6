"""Secrets never leave: what Tempox shows people (errors, logs, API answers, CLI output) passes
through :func:`redact` first.

Three kinds of secret are removed from any text:

- every value :func:`catalog.config.read_secret` has read from the environment in this process
  (a source's password, token or API key), wherever it appears, quoted, URL-encoded or not;
- URL user-info (``https://user:pass@host`` becomes ``https://host``), see :func:`strip_userinfo`;
- the values of credential-like keys and headers (``"password": "…"``, ``Authorization: Bearer
  …``), for secrets this process never read itself, such as one an orchestrator echoes back.

Redaction happens where an adapter turns a failed request into an error, where the sync engine
records an error, in every log handler the CLI installs, and in the URLs the store keeps.
"""

from __future__ import annotations

import re
import threading
from urllib.parse import quote, urlsplit, urlunsplit

__all__ = ["MASK", "forget_secrets", "redact", "register_secret", "strip_userinfo"]

MASK = "***"
# Shorter values would mask ordinary words; such a secret is no secret anyway.
MIN_SECRET_LENGTH = 4

_lock = threading.Lock()
_secrets: tuple[str, ...] = ()

_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)[^/?#\s@\"'<>]+@")
_AUTH_HEADER = re.compile(r"(?i)\b(?P<kind>bearer|basic|token)\s+[A-Za-z0-9._~+/=-]{6,}")
_KEYS = (
    r"password|passwd|secret|token|access_token|refresh_token|api_key|apikey|"
    r"auth_string|authorization|client_secret|private_key|dagster-cloud-api-token"
)
# "password": "x", 'password': 'x', password=x, password: x
_KEY_VALUE = re.compile(
    rf"(?i)(?P<key>[\"']?\b(?:{_KEYS})\b[\"']?\s*[:=]\s*)"
    r"(?!(?:bearer|basic|token)\s)"  # a header's scheme: _AUTH_HEADER masks what follows
    r"(?P<value>\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|[^\s,;&}\]\)]+)"
)


def register_secret(value: str | None) -> None:
    """Remember a secret this process holds, so :func:`redact` removes it from any text."""
    global _secrets
    if not value or len(value) < MIN_SECRET_LENGTH:
        return
    forms = {value, quote(value, safe=""), quote(value)}
    with _lock:
        # Longest first, so a secret that contains another is masked whole.
        _secrets = tuple(sorted(set(_secrets) | forms, key=len, reverse=True))


def forget_secrets() -> None:
    """Forget every registered secret (tests)."""
    global _secrets
    with _lock:
        _secrets = ()


def strip_userinfo(url: str) -> str:
    """``url`` without ``user:password@``; anything that is not a URL comes back as it was."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return _USERINFO.sub(r"\g<scheme>", url)
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=host))


def redact(text: str) -> str:
    """``text`` with every secret Tempox knows of, URL user-info and credential values masked."""
    if not text:
        return text
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    text = _USERINFO.sub(r"\g<scheme>", text)
    text = _AUTH_HEADER.sub(lambda m: f"{m['kind']} {MASK}", text)
    return _KEY_VALUE.sub(_mask_value, text)


def _mask_value(match: re.Match[str]) -> str:
    value = match["value"]
    quote_char = value[0] if value[:1] in ("'", '"') else ""
    return f"{match['key']}{quote_char}{MASK}{quote_char}"
