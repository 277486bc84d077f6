"""One conversation with Dagster's GraphQL API: timeouts, auth, errors, the server's clock.

Every query goes through :meth:`DagsterSession.query`, which turns whatever can go wrong
(refused connection, timeout, 401, 500, a body that is not GraphQL's JSON, ``errors`` in the
body, a ``PythonError`` where a result should be) into an :class:`~catalog.errors.AdapterError`
naming the server, the query and the problem.
"""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from adapters.dagster.config import DagsterConfig
from catalog.config import read_secret
from catalog.errors import AdapterError
from catalog.secrets import redact, strip_userinfo

# Dagster+ reads its user and agent tokens from this header.
TOKEN_HEADER = "Dagster-Cloud-Api-Token"
MAX_ANSWER = 64 * 1024 * 1024  # a runaway answer is refused, not parsed into memory


class DagsterSession:
    def __init__(self, source: str, config: DagsterConfig) -> None:
        self.source = source
        self.config = config
        self.requests = 0
        self.server_time: datetime | None = None  # from the Date header of the last answer
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if config.token_env is not None:
            headers[TOKEN_HEADER] = read_secret(source, "token_env", config.token_env)
        verify: bool | str = config.ca_bundle or config.verify_tls
        self.http = httpx.Client(
            headers=headers,
            timeout=httpx.Timeout(config.timeout.total_seconds()),
            # Retries on connection failures only: an answer, even a 500, is reported.
            transport=httpx.HTTPTransport(retries=2, verify=verify),
        )

    def close(self) -> None:
        self.http.close()

    def query(self, what: str, document: str, variables: dict[str, Any] | None = None) -> Any:
        """The ``data`` of ``document``; ``what`` names the query in errors."""
        body = {"query": document, "variables": variables or {}}
        try:
            with self.http.stream("POST", self.config.graphql_url, json=body) as response:
                self._on_response(response)
                return self._read(what, response)
        except httpx.TimeoutException:
            raise AdapterError(
                f"{self._where()} did not answer {what} within "
                f"{self.config.timeout.total_seconds():g}s (timeout)"
            ) from None
        except httpx.ConnectError as exc:
            reason = _first_line(exc)
            if "ssl" in reason.lower() or "certificate" in reason.lower():
                raise AdapterError(f"TLS with {self._where()} failed: {reason}") from None
            if "refused" in reason.lower():
                reason = "connection refused"
            raise AdapterError(f"cannot reach {self._where()}: {reason} ({what})") from None
        except httpx.HTTPError as exc:
            raise AdapterError(f"{self._where()}: {what} failed: {_first_line(exc)}") from None

    def _read(self, what: str, response: httpx.Response) -> Any:
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > MAX_ANSWER:
                raise AdapterError(
                    f"{self._where()} answered {what} with more than {MAX_ANSWER:,} bytes; "
                    "lower page_size"
                )
            chunks.append(chunk)
        raw = b"".join(chunks)
        status = response.status_code
        if status in (401, 403):
            raise AdapterError(
                f"{self._where()} refused {what} ({status}): the token is missing, wrong or "
                "lacks access to this deployment"
            )
        body = _json(raw)
        if status != 200 and not (isinstance(body, dict) and body.get("errors")):
            # Masked before it is cut, so that no secret is cut in half.
            text = " ".join(redact(raw.decode(errors="replace")).split())[:200] or "(empty body)"
            raise AdapterError(
                f"{self._where()} answered {what} with {status} {response.reason_phrase}: {text}"
            )
        return self._data(what, status, raw, body)

    def _data(self, what: str, status: int, raw: bytes, body: Any) -> Any:
        if body is _NOT_JSON:
            raise AdapterError(
                f"{self._where()} sent an answer to {what} that is not JSON: "
                f"{redact(raw.decode(errors='replace'))[:80]!r}"
            )
        if not isinstance(body, dict):
            raise AdapterError(
                f"{self._where()} sent an answer to {what} that is not a GraphQL response"
            )
        errors = body.get("errors")
        if errors:
            # GraphQL servers answer a query they refuse, or one that raised, with its errors
            # (and often a 400 or 500): Dagster's message is what names the problem.
            first = errors[0] if isinstance(errors, list) else errors
            message = redact(str(first.get("message") if isinstance(first, dict) else first))
            more = (
                f" (and {len(errors) - 1} more)" if isinstance(errors, list) and errors[1:] else ""
            )
            # 400 is how GraphQL says "invalid query"; anything else is worth showing.
            code = f" ({status})" if status not in (200, 400) else ""
            raise AdapterError(f"{self._where()}: {what} failed{code}: {message}{more}")
        data = body.get("data")
        if not isinstance(data, dict):
            raise AdapterError(f"{self._where()} sent an answer to {what} without data")
        return data

    def result(self, what: str, value: Any, typename: str) -> dict[str, Any]:
        """``value`` of a ``…OrError`` union, when it is ``typename``; else the error it is."""
        if isinstance(value, dict) and value.get("__typename") == typename:
            return value
        if isinstance(value, dict) and value.get("message"):
            kind = value.get("__typename", "error")
            message = redact(str(value["message"]))
            raise AdapterError(f"{self._where()}: {what} failed: {kind}: {message}")
        raise AdapterError(
            f"{self._where()} sent an answer to {what} that is not a {typename}: "
            f"{redact(repr(value))[:200]}"
        )

    def _on_response(self, response: httpx.Response) -> None:
        self.requests += 1
        date = response.headers.get("date")
        if date:
            with contextlib.suppress(TypeError, ValueError):
                self.server_time = parsedate_to_datetime(date).astimezone(UTC)

    def _where(self) -> str:
        return f"Dagster at {strip_userinfo(self.config.url)}"


_NOT_JSON = object()


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:  # JSONDecodeError, and UnicodeDecodeError for bytes that are no text
        return _NOT_JSON


def _first_line(exc: BaseException) -> str:
    text = redact(str(exc)).strip().splitlines()
    return text[0] if text else type(exc).__name__
