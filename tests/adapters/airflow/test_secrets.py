"""Secrets never leave, against a real Airflow: a sentinel password, token or URL user-info is
fed through every way a sync can fail (and succeed), and shows nowhere: not in the sync's
result, the store, the GraphQL API, the CLI's output or any log line (see
:mod:`tests.adapters.leaks`)."""

from __future__ import annotations

import json
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
from tests.peers.airflow import PASSWORD, PASSWORD_ENV, USERNAME, AirflowStack
from tests.peers.proxy import FaultProxy

pytestmark = [pytest.mark.peers, pytest.mark.xdist_group("peers")]
TOKEN_ENV = "TEMPOX_TEST_AIRFLOW_SECRET_TOKEN"
URL = r"http://127\.0\.0\.1:\d+"


def source(url: str, **options: Any) -> dict[str, Any]:
    signed_in = {"username": USERNAME, "password_env": PASSWORD_ENV}
    if "token_env" in options:
        signed_in = {}
    return {"kind": "airflow", "base_url": url, "timeout": "5s"} | signed_in | options


@pytest.fixture(params=[True, False], ids=["registered", "unregistered"])
def registered(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Once as Tempox runs (it learns every secret it reads), once with Tempox unaware of
    them: what a server echoes must be masked either way."""
    if not request.param:
        unregistered(monkeypatch)
    return bool(request.param)


def test_a_sign_in_refused_with_422_never_quotes_the_password(
    store: Store,
    airflow: AirflowStack,
    proxy: FaultProxy,
    registered: bool,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The body of POST /auth/token reaches the real Airflow with ``username`` misspelt: its
    FastAPI answers 422 with the request (password included) as each problem's ``input``."""
    secret = new_secret()
    monkeypatch.setenv(PASSWORD_ENV, secret)

    def misspell(body: bytes) -> bytes:
        sent = json.loads(body)
        assert sent["password"] == secret  # what the real server is about to echo
        return json.dumps({"usrname": sent["username"], "password": sent["password"]}).encode()

    proxy.set("rewrite", only="/auth/token", rewrite=misspell)
    result, seen = sync_seen(
        store, {"airflow": source(proxy.url)}, "airflow", caplog, tmp_path, monkeypatch
    )
    failed_with(
        result,
        rf"Airflow at {URL} answered POST /auth/token with 422 Unprocessable (Entity|Content): "
        r"username: Field required; usrname: Extra inputs are not permitted",
        full=True,
    )
    seen.assert_clean(secret)


def test_a_wrong_password_is_refused_without_showing_it(
    store: Store,
    airflow: AirflowStack,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    secret = new_secret()
    monkeypatch.setenv(PASSWORD_ENV, secret)
    result, seen = sync_seen(
        store, {"airflow": source(airflow.url)}, "airflow", caplog, tmp_path, monkeypatch
    )
    assert result.error == (
        f"Airflow at {airflow.url} refused to sign in user 'admin' (401): "
        "wrong username or password"
    )
    seen.assert_clean(secret)


def test_a_sign_in_echoed_by_a_gateway_is_masked(
    store: Store,
    airflow: AirflowStack,
    proxy: FaultProxy,
    registered: bool,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    secret = new_secret()
    monkeypatch.setenv(PASSWORD_ENV, secret)
    proxy.set("echo", only="/auth/token", status=502)
    result, seen = sync_seen(
        store, {"airflow": source(proxy.url)}, "airflow", caplog, tmp_path, monkeypatch
    )
    assert result.error is not None
    assert result.error.startswith(
        f"Airflow at {proxy.url} answered POST /auth/token with 502 Bad Gateway: "
        "POST /auth/token HTTP/1.1"
    ), result.error
    assert '{"username"' in result.error  # the body, cut at 200 characters (masked first)
    seen.assert_clean(secret)


def test_a_token_echoed_by_a_gateway_is_masked(
    store: Store,
    airflow: AirflowStack,
    proxy: FaultProxy,
    registered: bool,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    secret = new_secret()
    monkeypatch.setenv(TOKEN_ENV, secret)
    proxy.set("echo", only="/api/")
    result, seen = sync_seen(
        store,
        {"airflow": source(proxy.url, token_env=TOKEN_ENV)},
        "airflow",
        caplog,
        tmp_path,
        monkeypatch,
    )
    assert result.error is not None
    assert result.error.startswith(
        f"Airflow at {proxy.url} answered GET /dags with 500 Internal Server Error: GET /api/v2/"
    ), result.error
    assert "Authorization: Bearer ***" in result.error
    seen.assert_clean(secret)


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("down", rf"cannot reach Airflow at {URL}: connection refused \(POST /auth/token\)"),
        ("error", rf"Airflow at {URL} answered GET /dags with 500 Internal Server Error: "),
        ("echo", rf"Airflow at {URL} answered GET /dags with 500 Internal Server Error: GET "),
    ],
)
def test_user_info_in_the_url_shows_nowhere_when_a_sync_fails(
    store: Store,
    airflow: AirflowStack,
    proxy: FaultProxy,
    mode: Any,
    expected: str,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    secret = new_secret()
    proxy.set(mode, only="/api/")
    result, seen = sync_seen(
        store,
        {"airflow": source(with_userinfo(proxy.url, secret))},
        "airflow",
        caplog,
        tmp_path,
        monkeypatch,
    )
    failed_with(result, expected)
    seen.assert_clean(secret)


def test_user_info_in_the_url_shows_nowhere_when_a_sync_succeeds(
    store: Store,
    airflow: AirflowStack,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    secret = new_secret()
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    url = with_userinfo(airflow.url, secret)
    result, seen = sync_seen(
        store, {"airflow": source(url)}, "airflow", caplog, tmp_path, monkeypatch
    )
    assert result.status is SyncStatus.OK, result.error
    [state] = [s for s in store.read_sources_with_state() if s.name == "airflow"]
    assert state.base_url == airflow.url
    assert f'"baseUrl":"{airflow.url}"' in seen.texts["the GraphQL answer"]
    assert f"{airflow.url}/dags/" in seen.texts["the GraphQL answer"]  # the UI links
    assert "tempox sync airflow" in seen.texts
    seen.assert_clean(secret)
