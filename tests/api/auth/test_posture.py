"""How a server is protected, decided at start: open only on loopback unless told otherwise,
required auth everywhere else, and one line that says which."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from api.auth.posture import check_posture, is_loopback
from catalog.config import AUTH_REQUIRED_ENV, AuthSettings, load_settings
from catalog.errors import ConfigError

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),
        ("::", False),
        ("10.1.2.3", False),
        ("tempox.internal", False),
        ("", False),
    ],
)
def test_loopback_addresses(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_open_on_loopback_says_so() -> None:
    line = check_posture("127.0.0.1", None, insecure=False, active_tokens=0)
    assert line.startswith("auth: off. Open to anyone on this machine (127.0.0.1")


@pytest.mark.parametrize("auth", [None, AuthSettings(required=False)])
def test_open_elsewhere_is_refused_unless_insecure(auth: AuthSettings | None) -> None:
    with pytest.raises(ConfigError, match=r"refusing to serve on 0\.0\.0\.0 without auth"):
        check_posture("0.0.0.0", auth, insecure=False, active_tokens=3)
    line = check_posture("0.0.0.0", auth, insecure=True, active_tokens=3)
    assert line.startswith("WARNING auth: off on 0.0.0.0 (--insecure)")


def test_required_auth_may_listen_anywhere_and_says_how_to_get_a_token() -> None:
    line = check_posture("0.0.0.0", AuthSettings(), insecure=False, active_tokens=0)
    assert line.startswith("auth: required (API tokens); 0 active API token(s)")
    assert "tempox token create" in line
    oidc = AuthSettings(oidc_issuer="https://idp.example", oidc_audience="t", oidc_jwks="k.json")
    line = check_posture("10.0.0.5", oidc, insecure=False, active_tokens=2)
    assert line.startswith("auth: required (API tokens or OIDC JWTs from https://idp.example);")
    assert line.endswith("; 2 active API token(s)")


@pytest.mark.parametrize(
    ("value", "required"), [("1", True), ("true", True), ("0", None), ("", None)]
)
def test_the_environment_can_require_auth(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, value: str, required: bool | None
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TEMPOX_CONFIG", raising=False)
    monkeypatch.setenv(AUTH_REQUIRED_ENV, value)
    settings = load_settings()
    assert (settings.auth.required if settings.auth else None) is required
    (tmp_path / "tempox.toml").write_text("[auth]\nrequired = false\n")
    settings = load_settings()
    assert settings.auth is not None
    assert settings.auth.required is bool(required)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tempox(tmp_path: Path, *args: str, **env: str) -> subprocess.Popen[str]:
    environment = os.environ | {"TEMPOX_DATABASE_URL": f"sqlite:///{tmp_path / 't.db'}"} | env
    environment.pop("TEMPOX_CONFIG", None)
    return subprocess.Popen(
        [sys.executable, "-m", "api", *args],
        cwd=tmp_path,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
@pytest.mark.parametrize("command", ["serve", "demo"])
def test_an_open_server_on_a_public_address_does_not_start(tmp_path: Path, command: str) -> None:
    started = _tempox(tmp_path, command, "--host", "0.0.0.0", "--port", str(_free_port()))
    _, err = started.communicate(timeout=60)
    assert started.returncode == 1
    assert "error: refusing to serve on 0.0.0.0 without auth" in err
    assert "--insecure" in err


@pytest.mark.slow
def test_a_server_with_auth_required_by_the_environment_refuses_strangers(
    tmp_path: Path,
) -> None:
    port = _free_port()
    server = _tempox(
        tmp_path, "serve", "--no-sync", "--port", str(port), **{AUTH_REQUIRED_ENV: "1"}
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"{url}/healthz", timeout=2)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.communicate()[1]
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.2)
        assert health.status_code == 200
        refused = httpx.post(f"{url}/graphql", json={"query": "{ viewer { name } }"}, timeout=10)
        assert refused.status_code == 401
        assert refused.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    finally:
        server.terminate()
        _, err = server.communicate(timeout=30)
    assert "auth: required (API tokens); 0 active API token(s)" in err
