"""Secrets never leave: what Tempox shows people (errors, logs, API answers, CLI output) passes
through :func:`redact` first.

Three kinds of secret are removed from any text:

- every value :func:`catalog.config.read_secret` has read from the environment in this process
  (a source's password, token or API key), wherever it appears, quoted, URL-encoded or not;
- URL user-info (``https://user:pass@host`` becomes ``https://host``), see :func:`strip_userinfo`;
- the values of credential-like keys and headers (``"password": "…"``, ``Authorization: Bearer
  …``) and the input a validation error quotes (pydantic's ``input_value=…``), for secrets
  this process never read itself, such as one an orchestrator echoes back.

Redaction happens where an adapter turns a failed request into an error, where the sync engine
records an error, in every log record (see :func:`redact_record`), and in the URLs the store
keeps.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote, quote_plus, urlsplit, urlunsplit

__all__ = [
    "MASK",
    "RedactingFilter",
    "forget_secrets",
    "install_record_redaction",
    "redact",
    "redact_record",
    "register_secret",
    "strip_userinfo",
]

MASK = "***"
# Shorter values would mask ordinary words; such a secret is no secret anyway.
MIN_SECRET_LENGTH = 4

_lock = threading.Lock()
_secrets: tuple[str, ...] = ()

_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)[^/?#\s@\"'<>]+@")
# A credential after its scheme. Not one of lowercase letters alone, a word ("token expired"),
# nor a path that ends in /token followed by its protocol ("POST /auth/token HTTP/1.1").
_AUTH_HEADER = re.compile(
    r"(?i)(?<!/)\b(?P<kind>bearer|basic|token)\s+(?!HTTP/\d)"
    r"(?-i:(?=[a-z]*[A-Z0-9._~+/=-]))[A-Za-z0-9._~+/=-]{6,}"
)
_KEYS = (
    r"password|passwd|secret|token|access_token|refresh_token|api_key|apikey|"
    r"auth_string|authorization|client_secret|private_key|dagster-cloud-api-token"
)
# "password": "x", 'password': 'x', password=x, password: x (but not a name like token:ann)
_KEY_VALUE = re.compile(
    rf"(?i)(?P<key>(?P<q>[\"'])?\b(?:{_KEYS})\b(?(q)(?P=q)\s*[:=]\s*|(?:\s*=\s*|\s*:\s+)))"
    r"(?!(?:bearer|basic|token)\s)"  # a header's scheme: _AUTH_HEADER masks what follows
    r"(?P<value>\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|[^\s,;&}\]\)]+)"
)
# Pydantic's validation errors quote what they refused (a server's 422 to a sign-in: the
# password): "[type=missing, input_value={'password': '…'}, input_type=dict]".
_INPUT_VALUE = re.compile(r"(?P<key>\binput_value=).*?(?=, input_type=)")


def register_secret(value: str | None) -> None:
    """Remember a secret this process holds, so :func:`redact` removes it from any text."""
    global _secrets
    if not value or len(value) < MIN_SECRET_LENGTH:
        return
    # As it is, URL-encoded (in a path, a query, a form) and escaped in a JSON string.
    forms = {value, quote(value, safe=""), quote(value), quote_plus(value), json.dumps(value)[1:-1]}
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
    text = _INPUT_VALUE.sub(rf"\g<key>{MASK}", text)
    return _KEY_VALUE.sub(_mask_value, text)


def _mask_value(match: re.Match[str]) -> str:
    value = match["value"]
    quote_char = value[0] if value[:1] in ("'", '"') else ""
    return f"{match['key']}{quote_char}{MASK}{quote_char}"


# -- log records --------------------------------------------------------------------------------

_TRACEBACKS = logging.Formatter()


def redact_record(record: logging.LogRecord) -> None:
    """Mask the secrets in ``record``'s message, arguments, traceback and stack, in place.

    The arguments keep their shape where masking them one by one is enough (uvicorn's access
    formatter unpacks them); otherwise the record carries its masked message and no arguments.
    """
    try:
        message = record.getMessage()
    except Exception:  # arguments that do not fit the message: the handler says so, masked
        record.msg, record.args = redact(f"{record.msg!s} (arguments: {record.args!r})"), None
    else:
        clean = redact(message)
        if clean != message:
            record.msg, record.args = _redact_args(record, clean)
    if record.exc_info and not record.exc_text:
        # Formatters use exc_text when it is set, rather than formatting exc_info again.
        record.exc_text = _TRACEBACKS.formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


def _redact_args(record: logging.LogRecord, clean: str) -> tuple[Any, Any]:
    args = record.args
    masked: Any = None
    if isinstance(args, tuple):
        masked = tuple(redact(a) if isinstance(a, str) else a for a in args)
    elif isinstance(args, Mapping):
        masked = {k: redact(v) if isinstance(v, str) else v for k, v in args.items()}
    if masked is not None:
        try:
            if isinstance(record.msg, str) and record.msg % masked == clean:
                return record.msg, masked
        except (TypeError, ValueError, KeyError):
            pass
    return clean, None


class RedactingFilter(logging.Filter):
    """A handler filter that masks secrets in every record it passes (it drops none)."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


class _RedactingFactory:
    """The log record factory, wrapped: every record is masked as it is made."""

    def __init__(self, inner: Callable[..., logging.LogRecord]) -> None:
        self.inner = inner

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self.inner(*args, **kwargs)
        redact_record(record)
        return record


def install_record_redaction() -> None:
    """Mask the secrets of every log record this process makes from now on, whichever handler
    gets it, including handlers configured later (uvicorn installs its own when it starts).
    Installing it twice changes nothing."""
    factory = logging.getLogRecordFactory()
    if not isinstance(factory, _RedactingFactory):
        logging.setLogRecordFactory(_RedactingFactory(factory))
