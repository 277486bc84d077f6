"""Secrets never leave, against a real dagster-webserver: a sentinel Dagster+ token or URL
user-info is fed through every way a sync can fail (and succeed), and shows nowhere: not in
the sync's result, the store, the GraphQL API, the CLI's output or any log line (see
:mod:`tests.adapters.leaks`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from catalog.store.store import Store
from catalog.sync_types import SyncStatus
from tests.adapters.leaks import (
    failed_with,
    new_secret,
    sync_seen,
    unregistered,
    with_userinfo,
)
from tests.peers.dagster import DagsterServer
from tests.peers.proxy import FaultProxy

pytestmark = [pytest.mark.peers, pytest.mark.xdist_group("peers")]
TOKEN_ENV = "TEMPOX_TEST_DAGSTER_SECRET_TOKEN"
URL = r"http://127\.0\.0\.1:\d+"


def source(url: str, **options: Any) -> dict[str, Any]:
    return {"kind": "dagster", "url": url, "timeout": "5s"} | options


@pytest.mark.parametrize("registered", [True, False], ids=["registered", "unregistered"])
def test_a_token_echoed_by_a_gateway_is_masked(
    store: Store,
    dagster_server: DagsterServer,
    proxy: FaultProxy,
    registered: bool,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The token goes out in Dagster+'s header; a gateway answers 500 with the request."""
    if not registered:
        unregistered(monkeypatch)
    secret = new_secret()
    monkeypatch.setenv(TOKEN_ENV, f"user:{secret}")
    proxy.set("echo", only="/graphql")
    result, seen = sync_seen(
        store,
        {"dagster": source(proxy.url, token_env=TOKEN_ENV)},
        "dagster",
        caplog,
        tmp_path,
        monkeypatch,
    )
    failed_with(
        result,
        rf"Dagster at {URL} answered workspaceOrError with 500 Internal Server Error: "
        r"POST /graphql HTTP/1\.1 ",
    )
    assert "Dagster-Cloud-Api-Token: ***" in result.error
    seen.assert_clean(secret)


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("down", rf"cannot reach Dagster at {URL}: connection refused \(workspaceOrError\)$"),
        ("error", rf"Dagster at {URL} answered workspaceOrError with 500 Internal Server "),
        ("echo", rf"Dagster at {URL} answered workspaceOrError with 500 Internal Server "),
    ],
)
def test_user_info_in_the_url_shows_nowhere_when_a_sync_fails(
    store: Store,
    dagster_server: DagsterServer,
    proxy: FaultProxy,
    mode: Any,
    expected: str,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """httpx sends user-info as basic auth: the echo shows it base64-encoded, if unmasked."""
    secret = new_secret()
    proxy.set(mode, only="/graphql")
    result, seen = sync_seen(
        store,
        {"dagster": source(with_userinfo(proxy.url, secret))},
        "dagster",
        caplog,
        tmp_path,
        monkeypatch,
    )
    failed_with(result, expected)
    if mode == "echo":
        assert "Authorization: Basic ***" in result.error
    seen.assert_clean(secret)


def test_user_info_in_the_url_shows_nowhere_when_a_sync_succeeds(
    store: Store,
    dagster_server: DagsterServer,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    secret = new_secret()
    url = with_userinfo(dagster_server.root, secret)
    result, seen = sync_seen(
        store, {"dagster": source(url)}, "dagster", caplog, tmp_path, monkeypatch
    )
    assert result.status is SyncStatus.OK, result.error
    [state] = [s for s in store.read_sources_with_state() if s.name == "dagster"]
    assert state.base_url == dagster_server.root
    answer = seen.texts["the GraphQL answer"]
    assert f'"baseUrl":"{dagster_server.root}"' in answer
    assert f"{dagster_server.root}/runs/" in answer  # the UI links
    # The namespace of asset identities names the server, not who signs in to it.
    host = dagster_server.root.removeprefix("http://")
    assert f'"uri":"dagster://{host}/' in answer
    seen.assert_clean(secret)
