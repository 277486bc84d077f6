"""What :meth:`PrefectSession.call` makes of each way a call can go wrong.

Only real failure modes: a port nothing listens on, a socket that accepts and never answers,
a host that does not resolve, and the real Prefect server's answers, or a forwarding proxy's
in its place (an error status, garbage). ``call`` takes any callable, so a plain function
stands in for a client method where what matters is what ``call`` does with it.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import httpx
import pytest

from adapters.prefect.config import PrefectConfig
from adapters.prefect.session import NotFound, PrefectSession, _first_line
from catalog.errors import AdapterError
from tests.peers.prefect import PrefectServer
from tests.peers.proxy import FaultProxy

pytestmark = [pytest.mark.peers, pytest.mark.xdist_group("peers")]
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


# -- answers: the real server, behind a proxy that can answer in its place ------------------------


@pytest.fixture
def served(prefect_server: PrefectServer, proxy: FaultProxy) -> Iterator[PrefectSession]:
    """A session on the real server through the proxy (no retries: one answer per call)."""
    s = session(f"{proxy.url}/api", retries=0)
    yield s
    s.close()


def test_an_object_that_is_not_there(served: PrefectSession) -> None:
    with pytest.raises(NotFound) as caught:
        served.call(f"GET /flow_runs/{RUN_ID}", served.client.read_flow_run, RUN_ID)
    assert str(caught.value) == f"{where(served)}: GET /flow_runs/{RUN_ID}: not found"
    assert isinstance(caught.value, AdapterError)
    assert caught.value.__cause__ is None


def test_a_body_that_is_not_json(served: PrefectSession, proxy: FaultProxy) -> None:
    proxy.set("garbage")
    found = failure(served, "POST /flows/filter", served.client.read_flows)
    assert found.startswith(
        f"{where(served)} sent an answer to POST /flows/filter that is not the JSON its "
        "API documents: "
    )


@pytest.mark.parametrize(
    ("status", "body", "shown"),
    [
        (500, b"Internal Server Error", "500 Internal Server Error: Internal Server Error"),
        (503, b'{"detail": "database is locked"}', '503 Service Unavailable: {"detail": "data'),
        (502, b"", "502 Bad Gateway: (empty body)"),
        (500, b"<html>" + b"x" * 500 + b"</html>", "500 Internal Server Error: <html>" + "x" * 194),
    ],
)
def test_an_error_answer_names_its_status_and_body(
    served: PrefectSession, proxy: FaultProxy, status: int, body: bytes, shown: str
) -> None:
    proxy.set("error", status=status, body=body)
    found = failure(served, "POST /flows/filter", served.client.read_flows)
    assert found.startswith(f"{where(served)} answered POST /flows/filter with {shown}")
    assert len(found) - len(f"{where(served)} answered POST /flows/filter with ") < 240


@pytest.mark.parametrize("status", [401, 403])
def test_refused_credentials(served: PrefectSession, proxy: FaultProxy, status: int) -> None:
    proxy.set("error", status=status, body=b'{"exception_message": "Unauthorized"}')
    found = failure(served, "POST /flows/filter", served.client.read_flows)
    assert found == (
        f"{where(served)} refused POST /flows/filter ({status}): the credentials (api_key_env "
        "or auth_string_env) are missing, wrong or lack access to this workspace"
    )


def where(s: PrefectSession) -> str:
    return f"Prefect at {s.config.api_url}"


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
