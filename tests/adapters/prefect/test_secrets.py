"""Secrets never leave, against a real Prefect server: a sentinel API key, auth string or URL
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
from tests.peers.prefect import PrefectServer
from tests.peers.proxy import FaultProxy

pytestmark = [pytest.mark.peers, pytest.mark.xdist_group("peers")]
SECRET_ENV = "TEMPOX_TEST_PREFECT_SECRET"
URL = r"http://127\.0\.0\.1:\d+/api"


def source(url: str, **options: Any) -> dict[str, Any]:
    return {"kind": "prefect", "api_url": url, "timeout": "5s"} | options


@pytest.mark.parametrize("registered", [True, False], ids=["registered", "unregistered"])
@pytest.mark.parametrize(
    ("key", "value"),
    [("api_key_env", "pnu_{secret}"), ("auth_string_env", "tempox:{secret}")],
)
def test_credentials_echoed_by_a_gateway_are_masked(
    store: Store,
    prefect_server: PrefectServer,
    proxy: FaultProxy,
    key: str,
    value: str,
    registered: bool,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The API key goes out as ``Authorization: Bearer``, the auth string as basic auth; a
    gateway answers 500 with the request, headers and all."""
    if not registered:
        unregistered(monkeypatch)
    secret = new_secret()
    monkeypatch.setenv(SECRET_ENV, value.format(secret=secret))
    proxy.set("echo", only="/api/flows/filter")
    result, seen = sync_seen(
        store,
        {"prefect": source(f"{proxy.url}/api", **{key: SECRET_ENV})},
        "prefect",
        caplog,
        tmp_path,
        monkeypatch,
    )
    failed_with(
        result,
        rf"Prefect at {URL} answered POST /flows/filter with 500 Internal Server Error: "
        r"POST /api/flows/filter HTTP/1\.1 ",
    )
    scheme = "Bearer" if key == "api_key_env" else "Basic"
    assert f"Authorization: {scheme} ***" in result.error
    seen.assert_clean(secret)


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("down", rf"cannot reach Prefect at {URL}: connection refused \(POST /flows/filter\)$"),
        ("error", rf"Prefect at {URL} answered POST /flows/filter with 500 Internal Server "),
        ("echo", rf"Prefect at {URL} answered POST /flows/filter with 500 Internal Server "),
    ],
)
def test_user_info_in_the_url_shows_nowhere_when_a_sync_fails(
    store: Store,
    prefect_server: PrefectServer,
    proxy: FaultProxy,
    mode: Any,
    expected: str,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """httpx sends user-info as basic auth: the echo shows it base64-encoded, if unmasked."""
    secret = new_secret()
    proxy.set(mode, only="/api/")
    result, seen = sync_seen(
        store,
        {"prefect": source(with_userinfo(f"{proxy.url}/api", secret))},
        "prefect",
        caplog,
        tmp_path,
        monkeypatch,
    )
    failed_with(result, expected)
    seen.assert_clean(secret)


def test_user_info_in_the_url_shows_nowhere_when_a_sync_succeeds(
    store: Store,
    prefect_server: PrefectServer,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    secret = new_secret()
    url = with_userinfo(prefect_server.url, secret)
    result, seen = sync_seen(
        store, {"prefect": source(url)}, "prefect", caplog, tmp_path, monkeypatch
    )
    assert result.status is SyncStatus.OK, result.error
    [state] = [s for s in store.read_sources_with_state() if s.name == "prefect"]
    assert state.base_url == prefect_server.url
    answer = seen.texts["the GraphQL answer"]
    assert f'"baseUrl":"{prefect_server.url}"' in answer
    assert f"{prefect_server.root}/flows/flow/" in answer  # the UI links
    seen.assert_clean(secret)
