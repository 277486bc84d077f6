"""One signed-in conversation with an Airflow API server: auth, timeouts, errors, server time.

Every call goes through :meth:`AirflowSession.call`, which turns whatever can go wrong (refused
connection, timeout, 401, 500, a body that is not the documented JSON) into an
:class:`~catalog.errors.AdapterError` naming the server, the request and the problem.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import urllib3
from airflow_client import client as af
from airflow_client.client.exceptions import ApiException, OpenApiException

from adapters.airflow.config import AirflowConfig
from catalog.config import read_secret
from catalog.errors import AdapterError
from catalog.secrets import redact, strip_userinfo

T = TypeVar("T")

# Renew a JWT this long before it expires, so no request goes out with a dying token.
RENEW_BEFORE_S = 120.0
# Pydantic's text of a ValidationError: "2 validation errors for LoginBody\nusername\n  Field
# required [type=missing, input_value=…, input_type=dict]\n    For further information …".
_VALIDATION_ERRORS = re.compile(r"\d+ validation errors? for ")
_VALIDATION_PROBLEM = re.compile(r"^(\S[^\n]*)\n  ([^\n]+?)(?: \[type=[^\n]*)?$", re.MULTILINE)


class AirflowSession:
    """API objects bound to one server; ``call`` any of their methods through it."""

    def __init__(self, source: str, config: AirflowConfig) -> None:
        self.source = source
        self.config = config
        self.requests = 0
        self.server_time: datetime | None = None  # from the Date header of the last answer
        configuration = af.Configuration(host=config.base_url)
        configuration.verify_ssl = config.verify_tls
        configuration.ssl_ca_cert = config.ca_bundle
        # Only connection-level retries: an answer (even a 500) is reported, not retried blindly.
        configuration.retries = urllib3.Retry(
            total=2, connect=2, read=0, status=0, backoff_factor=0.3, raise_on_status=False
        )
        self.client = af.ApiClient(configuration)
        self.dags = af.DAGApi(self.client)
        self.tasks = af.TaskApi(self.client)
        self.dag_runs = af.DagRunApi(self.client)
        self.task_instances = af.TaskInstanceApi(self.client)
        self.assets = af.AssetApi(self.client)
        self.import_errors = af.ImportErrorApi(self.client)
        self.dag_versions = af.DagVersionApi(self.client)
        self._token_expires = 0.0
        if config.token_env is not None:
            configuration.access_token = read_secret(source, "token_env", config.token_env)
            self._token_expires = float("inf")

    @property
    def timeout(self) -> tuple[float, float]:
        return (self.config.connect_timeout.total_seconds(), self.config.timeout.total_seconds())

    def close(self) -> None:
        self.client.rest_client.pool_manager.clear()

    # -- calls ----------------------------------------------------------------------------------

    def call(self, what: str, method: Callable[..., Any], /, **kwargs: Any) -> Any:
        """``method`` (an API method, e.g. ``session.dags.get_dags``) with ``kwargs``.

        ``what`` names the request in errors (``GET /dags``). Signs in first when needed, and
        once more if the server says the token is no longer valid. ``raw=True`` returns the
        JSON as parsed, for answers the generated models lose data of (structured logs).
        """
        self._sign_in()
        try:
            return self._send(what, method, kwargs)
        except ApiException as exc:
            if not _token_refused(exc) or self.config.token_env is not None:
                raise self._api_error(what, exc) from None
        self._token_expires = 0.0  # revoked or signed with a rotated secret: sign in again
        self._sign_in()
        try:
            return self._send(what, method, kwargs)
        except ApiException as exc:
            raise self._api_error(what, exc) from None

    def _send(self, what: str, method: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
        kwargs = dict(kwargs)
        raw = kwargs.pop("raw", False)
        # The *_with_http_info twin of an API method also returns the headers (the server's Date).
        owner = getattr(method, "__self__")  # noqa: B009 - mypy does not know bound methods
        with_info = getattr(owner, f"{method.__name__}_with_http_info")
        self.requests += 1
        try:
            answer = with_info(**kwargs, _request_timeout=self.timeout)
        except ApiException:
            raise
        except urllib3.exceptions.HTTPError as exc:
            raise self._transport_error(what, exc) from None
        except (OpenApiException, ValueError, TypeError, KeyError) as exc:
            # json.JSONDecodeError and pydantic's ValidationError are ValueErrors.
            raise AdapterError(
                f"{self._where()} sent an answer to {what} that is not the JSON its API "
                f"documents: {_first_line(exc)}"
            ) from None
        self._note_time(answer.headers)
        if raw:
            try:
                return json.loads(answer.raw_data)
            except ValueError as exc:
                raise AdapterError(
                    f"{self._where()} sent an answer to {what} that is not JSON: {_first_line(exc)}"
                ) from None
        return answer.data

    # -- signing in -----------------------------------------------------------------------------

    def _sign_in(self) -> None:
        if time.time() < self._token_expires - RENEW_BEFORE_S:
            return
        assert self.config.username is not None
        assert self.config.password_env is not None
        password = read_secret(self.source, "password_env", self.config.password_env)
        body = {"username": self.config.username, "password": password}
        self.requests += 1
        try:
            response = self.client.rest_client.request(  # type: ignore[no-untyped-call]
                "POST",
                f"{self.config.base_url}/auth/token",
                headers={"Content-Type": "application/json", "Accept": "application/json"},
                body=body,
                _request_timeout=self.timeout,
            )
            raw = response.read()
        except urllib3.exceptions.HTTPError as exc:
            raise self._transport_error("POST /auth/token", exc) from None
        except ApiException as exc:  # the REST client reports TLS failures this way
            raise self._api_error("POST /auth/token", exc) from None
        if response.status in (401, 403):
            raise AdapterError(
                f"{self._where()} refused to sign in user {self.config.username!r} "
                f"({response.status}): wrong username or password"
            )
        if response.status >= 400:
            # Never the body as it is: FastAPI's 422 echoes the request, password included.
            raise AdapterError(
                f"{self._where()} answered POST /auth/token with {response.status} "
                f"{response.reason}: {_detail(raw, 200)}"
            )
        try:
            token = json.loads(raw)["access_token"]
            if not isinstance(token, str) or not token:
                raise ValueError("access_token is not a string")
        except (ValueError, KeyError, TypeError) as exc:
            raise AdapterError(
                f"{self._where()} sent an answer to POST /auth/token without a token "
                f"({_first_line(exc)})"
            ) from None
        self.client.configuration.access_token = token
        self._token_expires = _jwt_expiry(token)
        self._note_time(response.headers)

    # -- errors ---------------------------------------------------------------------------------

    def _where(self) -> str:
        return f"Airflow at {strip_userinfo(self.config.base_url)}"

    def _transport_error(self, what: str, exc: urllib3.exceptions.HTTPError) -> AdapterError:
        reason = getattr(exc, "reason", None) or exc
        if isinstance(reason, urllib3.exceptions.ReadTimeoutError | TimeoutError) or isinstance(
            exc, urllib3.exceptions.ReadTimeoutError
        ):
            return AdapterError(
                f"{self._where()} did not answer {what} within "
                f"{self.config.timeout.total_seconds():g}s (timeout)"
            )
        # NewConnectionError subclasses ConnectTimeoutError: ask about it first.
        if isinstance(reason, urllib3.exceptions.NewConnectionError):
            return AdapterError(f"cannot reach {self._where()}: connection refused ({what})")
        if isinstance(reason, urllib3.exceptions.ConnectTimeoutError):
            return AdapterError(
                f"cannot reach {self._where()}: connecting timed out after "
                f"{self.config.connect_timeout.total_seconds():g}s"
            )
        if isinstance(reason, urllib3.exceptions.SSLError):
            return AdapterError(f"TLS with {self._where()} failed: {_first_line(reason)}")
        return AdapterError(f"{self._where()}: {what} failed: {_first_line(reason)}")

    def _api_error(self, what: str, exc: ApiException) -> AdapterError:
        status = exc.status or 0
        if status == 0:
            return AdapterError(f"{self._where()}: {what} failed: {exc.reason}")
        if _token_refused(exc):
            return AdapterError(
                f"{self._where()} refused the credentials for {what} ({status} "
                f"{_detail(exc.body)}): the token is missing, expired or invalid"
            )
        if status == 403:
            return AdapterError(
                f"{self._where()} does not allow {what} (403): the user needs read access "
                "to DAGs, runs, task instances and assets"
            )
        return AdapterError(
            f"{self._where()} answered {what} with {status} {exc.reason or ''}".rstrip()
            + f": {_snippet(exc.body)}"
        )

    def _note_time(self, headers: Any) -> None:
        date = headers.get("date") if headers is not None else None
        if date:
            with contextlib.suppress(TypeError, ValueError):
                self.server_time = parsedate_to_datetime(date).astimezone(UTC)


def _detail(body: bytes | str | None, limit: int = 80) -> str:
    """FastAPI's ``{"detail": ...}``, or the body itself, secrets masked. A validation error
    shows each problem's place and message, never the ``input`` FastAPI echoes with it."""
    try:
        detail = json.loads(body or "")["detail"]
    except (ValueError, KeyError, TypeError):
        return _snippet(body, limit)
    if isinstance(detail, str):
        # Airflow's sign-in answers 422 with pydantic's text, which quotes the input too.
        problems = _VALIDATION_PROBLEM.findall(detail)
        if problems and _VALIDATION_ERRORS.match(detail):
            return _snippet("; ".join(f"{loc}: {msg}" for loc, msg in problems), limit)
        return redact(detail)
    if isinstance(detail, list) and detail and all(isinstance(d, dict) for d in detail):
        return _snippet("; ".join(_problem(d) for d in detail), limit)
    return _snippet(json.dumps(detail), limit)


def _problem(item: dict[str, Any]) -> str:
    """``body.username: Field required`` of one FastAPI validation error."""
    loc = item.get("loc")
    place = ".".join(map(str, loc)) if isinstance(loc, list) else ""
    message = item.get("msg")
    return ": ".join(str(p) for p in (place, message) if p) or "invalid request"


def _token_refused(exc: ApiException) -> bool:
    """401, or Airflow's 403 for a token it cannot verify ("Invalid JWT token")."""
    return exc.status == 401 or (exc.status == 403 and "token" in _detail(exc.body).lower())


def _jwt_expiry(token: str) -> float:
    """When a JWT expires (its ``exp``), read without verifying: only the server verifies it."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return float(claims["exp"])
    except (IndexError, ValueError, KeyError, TypeError):
        return time.time() + 300.0  # not a JWT we can read: renew it every five minutes


def _first_line(exc: BaseException) -> str:
    text = redact(str(exc)).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _snippet(body: bytes | str | None, limit: int = 200) -> str:
    """The start of a body, on one line, secrets masked (before it is cut, so none is cut in
    half)."""
    if body is None:
        return "(no body)"
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    text = " ".join(redact(text).split())
    return text[:limit] + ("…" if len(text) > limit else "") if text else "(empty body)"
