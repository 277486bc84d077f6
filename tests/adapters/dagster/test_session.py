"""What :class:`DagsterSession` makes of a real dagster-webserver's answers, and of every way a
request can go wrong: faults come from a forwarding proxy in front of the real server, a port
nothing listens on, a host that does not resolve, and a local socket that records a request."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.dagster import queries
from adapters.dagster import session as session_module
from adapters.dagster.config import DagsterConfig
from adapters.dagster.session import TOKEN_HEADER, DagsterSession
from catalog.errors import AdapterError
from tests.peers.dagster import DagsterServer
from tests.peers.proxy import FaultProxy

pytestmark = [pytest.mark.peers, pytest.mark.xdist_group("peers")]
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "dagster"
TOKEN_VARIABLE = "TEMPOX_TEST_DAGSTER_TOKEN"


def session(url: str, **keys: Any) -> DagsterSession:
    return DagsterSession("d", DagsterConfig.model_validate({"url": url} | keys))


@pytest.fixture
def real(dagster_server: DagsterServer) -> Iterator[DagsterSession]:
    s = session(dagster_server.root)
    yield s
    s.close()


def failure(s: DagsterSession, what: str, document: str = queries.WORKSPACE) -> str:
    with pytest.raises(AdapterError) as caught:
        s.query(what, document)
    return str(caught.value)


def workspace_failure(url: str, **keys: Any) -> str:
    """What asking a new session at ``url`` for the workspace fails with."""
    s = session(url, **keys)
    try:
        return failure(s, "workspaceOrError")
    finally:
        s.close()


# -- the real server ------------------------------------------------------------------------------


def test_a_good_query_returns_its_data(real: DagsterSession) -> None:
    data = real.query("workspaceOrError", queries.WORKSPACE)
    workspace = real.result("workspaceOrError", data["workspaceOrError"], "Workspace")
    assert [e["name"] for e in workspace["locationEntries"]] == ["estate"]
    assert real.requests == 1


def test_the_date_header_sets_the_server_time(real: DagsterSession) -> None:
    assert real.server_time is None
    before = datetime.now(UTC).replace(microsecond=0)
    real.query("assetNodes", queries.ASSET_NODES)
    assert real.server_time is not None
    assert real.server_time.tzinfo is UTC
    # The Date header has whole seconds; the server runs on this machine's clock.
    assert before - timedelta(seconds=1) <= real.server_time <= datetime.now(UTC)


def test_variables_reach_the_server(real: DagsterSession) -> None:
    data = real.query("runsOrError", queries.RUNS, {"filter": None, "cursor": None, "limit": 1})
    runs = real.result("runsOrError", data["runsOrError"], "Runs")["results"]
    assert len(runs) == 1


def test_a_query_dagster_cannot_validate(
    real: DagsterSession, dagster_server: DagsterServer
) -> None:
    found = failure(real, "brokenQuery", "query Broken { noSuchField }")
    assert found.startswith(f"Dagster at {dagster_server.root}: brokenQuery failed: ")
    assert "noSuchField" in found
    assert "Cannot query field" in found


def test_a_query_with_a_syntax_error(real: DagsterSession, dagster_server: DagsterServer) -> None:
    found = failure(real, "halfQuery", "query Half { workspaceOrError {")
    assert found.startswith(f"Dagster at {dagster_server.root}: halfQuery failed: ")
    assert "Syntax Error" in found


def test_a_union_error_is_named(real: DagsterSession, dagster_server: DagsterServer) -> None:
    document = (
        'query { runOrError(runId: "nope") { __typename ... on RunNotFoundError { message } } }'
    )
    data = real.query("runOrError(nope)", document)
    with pytest.raises(AdapterError) as caught:
        real.result("runOrError(nope)", data["runOrError"], "Run")
    assert str(caught.value).startswith(
        f"Dagster at {dagster_server.root}: runOrError(nope) failed: RunNotFoundError: "
    )
    assert "nope" in str(caught.value)


def test_a_result_of_the_wrong_type_without_a_message(real: DagsterSession) -> None:
    data = real.query("assetNodes", queries.ASSET_NODES)
    with pytest.raises(AdapterError, match="that is not a Workspace"):
        real.result("assetNodes", data["assetNodes"], "Workspace")


def test_an_answer_bigger_than_the_limit_is_refused(
    real: DagsterSession, dagster_server: DagsterServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(session_module, "MAX_ANSWER", 100)
    found = failure(real, "workspaceOrError")
    assert found == (
        f"Dagster at {dagster_server.root} answered workspaceOrError with more than 100 bytes; "
        "lower page_size"
    )


# -- faults through the proxy ---------------------------------------------------------------------


def test_a_server_that_is_down(proxy: FaultProxy) -> None:
    url = proxy.url
    proxy.set("down")
    s = session(url)
    try:
        found = failure(s, "workspaceOrError")
    finally:
        s.close()
    assert found == f"cannot reach Dagster at {url}: connection refused (workspaceOrError)"
    assert s.requests == 0


def test_a_server_error(proxy: FaultProxy) -> None:
    proxy.set("error", only="/graphql")
    found = workspace_failure(proxy.url)
    assert found == (
        f"Dagster at {proxy.url} answered workspaceOrError with 500 Internal Server Error: "
        "Internal Server Error"
    )
    assert proxy.count() == 1  # an answer, even a 500, is not retried


def test_an_answer_that_is_not_json(proxy: FaultProxy) -> None:
    proxy.set("garbage", only="/graphql")
    found = workspace_failure(proxy.url)
    assert found.startswith(
        f"Dagster at {proxy.url} sent an answer to workspaceOrError that is not JSON: "
    )


def test_a_slow_server(proxy: FaultProxy) -> None:
    proxy.set("slow", delay=3, only="/graphql")
    found = workspace_failure(proxy.url, timeout="1s")
    assert found == f"Dagster at {proxy.url} did not answer workspaceOrError within 1s (timeout)"


def test_a_proxy_that_passes_changes_nothing(proxy: FaultProxy) -> None:
    s = session(proxy.url + "/graphql")
    try:
        data = s.query("workspaceOrError", queries.WORKSPACE)
    finally:
        s.close()
    assert data["workspaceOrError"]["__typename"] == "Workspace"
    assert proxy.requests == ["POST /graphql"]


def test_a_host_that_does_not_resolve_is_not_called_refused() -> None:
    url = "http://tempox-no-such-host.invalid"  # .invalid never resolves (RFC 2606)
    found = workspace_failure(url, timeout="5s")
    assert found.startswith(f"cannot reach Dagster at {url}: ")
    assert found.endswith("(workspaceOrError)")
    assert "connection refused" not in found


# -- the token ------------------------------------------------------------------------------------


@pytest.fixture
def recorder() -> Iterator[tuple[str, list[bytes]]]:
    """A local socket that records one request and answers it with a recorded answer of the
    real server (workspace.json, as GraphQL's ``{"data": …}``)."""
    body = json.dumps({"data": json.loads((FIXTURES / "workspace.json").read_text())}).encode()
    seen: list[bytes] = []
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(1)

    def serve() -> None:
        conn, _ = server.accept()
        with conn:
            conn.settimeout(5)
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(65536)
            head, _, rest = data.partition(b"\r\n\r\n")
            length = next(
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            while len(rest) < length:
                rest += conn.recv(65536)
            seen.append(head)
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                + body
            )

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}", seen
    finally:
        thread.join(timeout=5)
        server.close()


def test_the_token_is_sent_in_dagster_cloud_s_header(
    recorder: tuple[str, list[bytes]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, seen = recorder
    monkeypatch.setenv(TOKEN_VARIABLE, "user:not-a-real-token")
    s = session(url, token_env=TOKEN_VARIABLE)
    try:
        data = s.query("workspaceOrError", queries.WORKSPACE)
    finally:
        s.close()
    assert data["workspaceOrError"]["__typename"] == "Workspace"
    (head,) = seen
    lines = head.decode().split("\r\n")
    assert lines[0] == "POST /graphql HTTP/1.1"
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    assert headers[TOKEN_HEADER.lower()] == "user:not-a-real-token"
    assert headers["content-type"] == "application/json"
