"""What :meth:`PrefectSession.call` makes of each way a call can go wrong, without a server.

Only real failure modes: a port nothing listens on, a socket that accepts and never answers,
prefect's own models refusing a body, and httpx's own errors around real ``httpx.Response``
objects. ``call`` takes any callable, so a plain function stands in for a client method where
the failure is the exception it raises.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import httpx
import pytest
from prefect.client.schemas.objects import FlowRun
from prefect.exceptions import ObjectNotFound, PrefectHTTPStatusError

from adapters.prefect.config import PrefectConfig
from adapters.prefect.session import NotFound, PrefectSession, _first_line
from catalog.errors import AdapterError

RUN_ID = UUID("37559b6a-e391-4f0c-a967-de58a712f672")
URL = "http://127.0.0.1:4200/api"


def session(url: str = URL, **keys: Any) -> PrefectSession:
    return PrefectSession("prod", PrefectConfig.model_validate({"api_url": url} | keys))


@pytest.fixture
def prod() -> Iterator[PrefectSession]:
    s = session()
    yield s
    s.close()


def failure(s: PrefectSession, what: str, method: Callable[..., Any], *args: Any) -> str:
    with pytest.raises(AdapterError) as caught:
        s.call(what, method, *args)
    return str(caught.value)


def answered(status: int, body: str = "", path: str = "/api/flow_runs/filter") -> httpx.Response:
    request = httpx.Request("POST", f"http://127.0.0.1:4200{path}")
    return httpx.Response(status, text=body, request=request)


def raises(exc: BaseException) -> Callable[..., Any]:
    def method(*args: Any, **kwargs: Any) -> Any:
        raise exc

    return method


def status_error(response: httpx.Response) -> httpx.HTTPStatusError:
    """What ``response.raise_for_status()`` raises for it, as the client's calls raise it."""
    with pytest.raises(httpx.HTTPStatusError) as caught:
        response.raise_for_status()
    return caught.value


# -- the network --------------------------------------------------------------------------------


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port bound but not listening: connecting to it is refused, and nothing takes it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@pytest.fixture
def silent_port() -> Iterator[socket.socket]:
    """A port that accepts connections (the kernel's backlog) and never answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock


def test_a_refused_connection(closed_port: int) -> None:
    url = f"http://127.0.0.1:{closed_port}/api"
    s = session(url, retries=0)
    try:
        found = failure(s, "GET /flow_runs/x", s.client.read_flow_run, RUN_ID)
    finally:
        s.close()
    assert found.startswith(f"cannot reach Prefect at {url}: ")
    assert "connection refused" in found.lower()
    assert found.endswith("(GET /flow_runs/x)")
    assert s.requests == 0  # no answer came back


def test_a_server_that_never_answers(silent_port: socket.socket) -> None:
    url = f"http://127.0.0.1:{silent_port.getsockname()[1]}/api"
    s = session(url, retries=0, timeout="1s")
    try:
        found = failure(s, "POST /flows/filter", s.client.read_flows)
    finally:
        s.close()
    assert found == f"Prefect at {url} did not answer POST /flows/filter within 1s (timeout)"
    # retries = 0 reached the client: one connection, no second try.
    silent_port.setblocking(False)
    accepted = 0
    while True:
        try:
            conn, _ = silent_port.accept()
        except BlockingIOError:
            break
        conn.close()
        accepted += 1
    assert accepted == 1


def test_a_host_that_does_not_resolve_is_not_called_refused() -> None:
    url = "http://tempox-no-such-host.invalid/api"  # .invalid never resolves (RFC 2606)
    s = session(url, retries=0)
    try:
        found = failure(s, "GET /flow_runs/x", s.client.read_flow_run, RUN_ID)
    finally:
        s.close()
    assert found.startswith(f"cannot reach Prefect at {url}")
    assert "connection refused" not in found


# -- answers that are not the documented JSON ---------------------------------------------------


def test_a_body_the_client_models_refuse(prod: PrefectSession) -> None:
    def read() -> FlowRun:  # what the client does with a flow run whose id is not a UUID
        return FlowRun.model_validate({"id": "not-a-uuid", "flow_id": str(RUN_ID)})

    found = failure(prod, "GET /flow_runs/x", read)
    assert found == (
        f"Prefect at {URL} sent an answer to GET /flow_runs/x that is not the JSON its API "
        "documents: 1 validation error for FlowRun"
    )


def test_a_body_that_is_not_json(prod: PrefectSession) -> None:
    page = answered(200, "<html><body>Maintenance</body></html>")
    found = failure(prod, "POST /flow_runs/filter", page.json)
    assert found.startswith(
        f"Prefect at {URL} sent an answer to POST /flow_runs/filter that is not the JSON its "
        "API documents: Expecting value"
    )


def test_a_value_error(prod: PrefectSession) -> None:
    found = failure(prod, "GET /x", raises(ValueError("bad timestamp\nsecond line")))
    assert found.endswith("that is not the JSON its API documents: bad timestamp")


# -- status codes -------------------------------------------------------------------------------


def test_a_server_error(prod: PrefectSession) -> None:
    body = json.dumps({"exception_message": "Internal Server Error"}, indent=2)
    error = status_error(answered(500, body))
    found = failure(prod, "POST /flow_runs/filter", raises(error))
    assert found == (
        f"Prefect at {URL} answered POST /flow_runs/filter with 500 Internal Server Error: "
        '{ "exception_message": "Internal Server Error" }'
    )


def test_the_client_s_own_status_error(prod: PrefectSession) -> None:
    """The client raises PrefectHTTPStatusError, a subclass, around the same response."""
    response = answered(503, '{"detail": "database is locked"}')
    error = PrefectHTTPStatusError.from_httpx_error(status_error(response))
    found = failure(prod, "POST /flows/filter", raises(error))
    assert found == (
        f"Prefect at {URL} answered POST /flows/filter with 503 Service Unavailable: "
        '{"detail": "database is locked"}'
    )


def test_an_empty_error_body(prod: PrefectSession) -> None:
    found = failure(prod, "POST /flows/filter", raises(status_error(answered(502, ""))))
    assert (
        found == f"Prefect at {URL} answered POST /flows/filter with 502 Bad Gateway: (empty body)"
    )


def test_a_long_error_body_is_trimmed(prod: PrefectSession) -> None:
    body = "<html>" + "x" * 500 + "</html>"
    found = failure(prod, "GET /x", raises(status_error(answered(500, body))))
    assert found.endswith(": " + body[:200])


@pytest.mark.parametrize("status", [401, 403])
def test_refused_credentials(prod: PrefectSession, status: int) -> None:
    error = status_error(answered(status, '{"detail": "Unauthorized"}'))
    found = failure(prod, "POST /flows/filter", raises(error))
    assert found == (
        f"Prefect at {URL} refused POST /flows/filter ({status}): the credentials (api_key_env "
        "or auth_string_env) are missing, wrong or lack access to this workspace"
    )


def test_an_object_that_is_not_there(prod: PrefectSession) -> None:
    error = status_error(answered(404, '{"detail": "Flow run not found"}', "/api/flow_runs/x"))
    with pytest.raises(NotFound) as caught:
        prod.call(f"GET /flow_runs/{RUN_ID}", raises(ObjectNotFound(http_exc=error)))
    assert str(caught.value) == f"Prefect at {URL}: GET /flow_runs/{RUN_ID}: not found"
    assert isinstance(caught.value, AdapterError)
    assert caught.value.__cause__ is None


def test_a_working_call_returns_its_answer(prod: PrefectSession) -> None:
    assert prod.call("echo", lambda *a, **k: (a, k), 1, 2, limit=3) == ((1, 2), {"limit": 3})


def test_other_errors_are_not_swallowed(prod: PrefectSession) -> None:
    with pytest.raises(ZeroDivisionError):
        prod.call("divide", lambda: 1 / 0)


# -- the response hook ----------------------------------------------------------------------------


def test_the_hook_is_installed_on_the_client(prod: PrefectSession) -> None:
    assert prod.client._client.event_hooks["response"] == [prod._on_response]


def test_the_date_header_sets_the_server_time_and_each_answer_counts(
    prod: PrefectSession,
) -> None:
    assert (prod.requests, prod.server_time) == (0, None)
    first = answered(200, "[]")
    first.headers["date"] = "Tue, 24 Nov 2026 13:27:41 GMT"
    prod._on_response(first)
    assert prod.requests == 1
    assert prod.server_time == datetime(2026, 11, 24, 13, 27, 41, tzinfo=UTC)
    assert prod.server_time.tzinfo is UTC
    later = answered(500, "")
    later.headers["date"] = "Tue, 24 Nov 2026 13:28:00 GMT"
    prod._on_response(later)  # an error answer has a clock too
    assert prod.requests == 2
    assert prod.server_time == datetime(2026, 11, 24, 13, 28, tzinfo=UTC)


def test_a_date_in_another_zone_is_read_as_utc(prod: PrefectSession) -> None:
    response = answered(200, "[]")
    response.headers["date"] = "Tue, 24 Nov 2026 14:27:41 +0100"
    prod._on_response(response)
    assert prod.server_time == datetime(2026, 11, 24, 13, 27, 41, tzinfo=UTC)
    assert prod.server_time is not None
    assert prod.server_time.tzinfo is UTC


@pytest.mark.parametrize("date", [None, "", "yesterday", "Tue, 99 Nov 2026 13:27:41 GMT"])
def test_answers_without_a_readable_date_keep_the_last_time(
    prod: PrefectSession, date: str | None
) -> None:
    known = answered(200, "[]")
    known.headers["date"] = "Tue, 24 Nov 2026 13:27:41 GMT"
    prod._on_response(known)
    response = answered(200, "[]")
    if date is not None:
        response.headers["date"] = date
    prod._on_response(response)
    assert prod.requests == 2
    assert prod.server_time == datetime(2026, 11, 24, 13, 27, 41, tzinfo=UTC)


# -- helpers ------------------------------------------------------------------------------------


def test_first_line_of_an_exception() -> None:
    assert _first_line(ValueError("first\nsecond")) == "first"
    assert _first_line(ValueError("  \n")) == "ValueError"
    assert _first_line(httpx.ConnectError("")) == "ConnectError"
