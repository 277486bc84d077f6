"""The keys of a ``kind = "prefect"`` source: what is accepted, what is refused, and how."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest
from pydantic import ValidationError

from adapters.prefect import PrefectAdapter, PrefectConfig
from adapters.prefect.session import PrefectSession
from catalog.adapter import adapter_class, discover_adapters
from catalog.config import Settings, parse_settings
from catalog.errors import ConfigError

URL = "http://prefect.example.com:4200/api"
CLOUD = "https://api.prefect.cloud/api/accounts/0f1e2d3c/workspaces/9a8b7c6d"
KEY_VARIABLE = "TEMPOX_TEST_PREFECT_API_KEY"
AUTH_VARIABLE = "TEMPOX_TEST_PREFECT_AUTH"


def config(**keys: Any) -> PrefectConfig:
    return PrefectConfig.model_validate({"api_url": URL} | keys)


def refusal(**keys: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        config(**keys)
    return str(caught.value)


def settings(**keys: Any) -> Settings:
    source = {"kind": "prefect", "api_url": URL} | keys
    return parse_settings({"sources": {"prod": source}}, file="tempox.toml")


def settings_error(**keys: Any) -> str:
    with pytest.raises(ConfigError) as caught:
        settings(**keys)
    return str(caught.value)


# -- URLs ---------------------------------------------------------------------------------------


def test_api_url_is_required() -> None:
    with pytest.raises(ValidationError, match="api_url"):
        PrefectConfig.model_validate({})


@pytest.mark.parametrize(
    "url", ["ftp://prefect.example.com/api", "prefect:4200/api", "http://", "file:///srv", " ", ""]
)
def test_api_url_must_be_http(url: str) -> None:
    found = refusal(api_url=url)
    assert "api_url" in found
    assert "is not an http(s) URL" in found or "at least 1 character" in found


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("http://127.0.0.1:4200/api/", "http://127.0.0.1:4200/api"),
        ("http://127.0.0.1:4200/api//", "http://127.0.0.1:4200/api"),
        ("https://prefect.example.com/api", "https://prefect.example.com/api"),
        (CLOUD + "/", CLOUD),
    ],
)
def test_trailing_slashes_are_stripped(url: str, kept: str) -> None:
    assert config(api_url=url).api_url == kept
    assert config(ui_url=url).ui_url == kept


def test_ui_url_is_checked_like_api_url() -> None:
    assert config().ui_url is None
    assert "is not an http(s) URL" in refusal(ui_url="prefect.example.com")


@pytest.mark.parametrize(
    ("api_url", "ui"),
    [
        ("http://127.0.0.1:4200/api", "http://127.0.0.1:4200"),
        ("http://127.0.0.1:4200/api/", "http://127.0.0.1:4200"),
        ("https://example.com/prefect/api", "https://example.com/prefect"),
        ("https://prefect.example.com", "https://prefect.example.com"),  # no /api to take off
        (CLOUD, "https://app.prefect.cloud/account/0f1e2d3c/workspace/9a8b7c6d"),
        (CLOUD + "/", "https://app.prefect.cloud/account/0f1e2d3c/workspace/9a8b7c6d"),
    ],
)
def test_default_ui_url(api_url: str, ui: str) -> None:
    assert config(api_url=api_url).default_ui_url() == ui


def test_an_explicit_ui_url_wins_for_links() -> None:
    adapter = PrefectAdapter("prod", config(ui_url="https://prefect-ui.example.com/"))
    run = UUID("8d2bcdd5-61b3-42da-94b1-18c682c0748c")
    assert adapter.links.flow_run(run) == f"https://prefect-ui.example.com/runs/flow-run/{run}"
    derived = PrefectAdapter("prod", config(api_url=CLOUD))
    assert derived.links.ui == "https://app.prefect.cloud/account/0f1e2d3c/workspace/9a8b7c6d"
    assert derived.base_url == CLOUD


# -- numbers and durations ------------------------------------------------------------------------


def test_defaults() -> None:
    c = config()
    assert c.api_key_env is None
    assert c.auth_string_env is None
    assert c.verify_tls is True
    assert c.ca_bundle is None
    assert c.timeout == timedelta(seconds=30)
    assert c.retries == 2
    assert c.page_size == 200
    assert c.overlap == timedelta(minutes=2)


@pytest.mark.parametrize("size", [1, 50, 200])
def test_page_sizes_up_to_the_server_cap(size: int) -> None:
    assert config(page_size=size).page_size == size


@pytest.mark.parametrize("size", [0, -1, 201, 1000])
def test_page_sizes_outside_one_to_two_hundred_are_refused(size: int) -> None:
    assert "page_size" in refusal(page_size=size)


@pytest.mark.parametrize("retries", [0, 1, 10])
def test_retries_within_bounds(retries: int) -> None:
    assert config(retries=retries).retries == retries


@pytest.mark.parametrize("retries", [-1, 11, 100])
def test_retries_outside_bounds_are_refused(retries: int) -> None:
    assert "retries" in refusal(retries=retries)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("30s", timedelta(seconds=30)), ("1m30s", timedelta(seconds=90)), (5, timedelta(seconds=5))],
)
def test_durations(text: str | int, expected: timedelta) -> None:
    c = config(timeout=text, overlap=text)
    assert c.timeout == c.overlap == expected


@pytest.mark.parametrize("bad", ["soon", "0s", "-5s", ""])
@pytest.mark.parametrize("key", ["timeout", "overlap"])
def test_bad_durations_are_refused(key: str, bad: str) -> None:
    found = refusal(**{key: bad})
    assert key in found
    assert "invalid duration" in found


def test_unknown_keys_and_secrets_as_values_are_refused() -> None:
    assert "extra" in refusal(api_key="pnu_secret").lower()
    assert "extra" in refusal(api_key_envv=KEY_VARIABLE).lower()
    assert "extra" in refusal(auth_string="admin:hunter2").lower()


def test_auth_string_env_is_accepted() -> None:
    c = config(auth_string_env=AUTH_VARIABLE)
    assert c.auth_string_env == AUTH_VARIABLE
    assert c.api_key_env is None


def test_api_key_env_and_auth_string_env_together_are_refused() -> None:
    found = refusal(api_key_env=KEY_VARIABLE, auth_string_env=AUTH_VARIABLE)
    assert (
        "give either api_key_env (Prefect Cloud) or auth_string_env (a self-hosted server with "
        "PREFECT_SERVER_API_AUTH_STRING), not both"
    ) in found


def test_the_config_is_frozen() -> None:
    c = config()
    with pytest.raises(ValidationError):
        c.page_size = 5  # type: ignore[misc]


# -- through the settings file --------------------------------------------------------------------


def test_the_prefect_kind_is_found_through_its_entry_point() -> None:
    assert adapter_class("prefect") is PrefectAdapter
    assert discover_adapters()["prefect"] is PrefectAdapter
    assert PrefectAdapter.kind == "prefect"
    assert PrefectAdapter.config_class is PrefectConfig


def test_a_valid_source_in_the_settings() -> None:
    found = settings(api_url=URL + "/", interval="5m", timeout="10s", api_key_env=KEY_VARIABLE)
    source = found.sources["prod"]
    assert source.kind == "prefect"
    assert source.adapter is PrefectAdapter
    assert isinstance(source.config, PrefectConfig)
    assert source.config.api_url == URL
    assert source.config.timeout == timedelta(seconds=10)
    assert source.interval == timedelta(minutes=5)
    adapter = source.create_adapter()
    assert isinstance(adapter, PrefectAdapter)
    assert adapter.base_url == URL
    assert adapter.name == "prod"


def test_stored_settings_name_the_variable_not_the_secret() -> None:
    public = settings(api_key_env=KEY_VARIABLE).sources["prod"].public_settings()
    assert public["api_key_env"] == KEY_VARIABLE
    assert public["api_url"] == URL
    public = settings(auth_string_env=AUTH_VARIABLE).sources["prod"].public_settings()
    assert public["auth_string_env"] == AUTH_VARIABLE


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        (
            {"api_url": "ftp://prefect.example.com/api"},
            "tempox.toml: sources.prod.api_url: 'ftp://prefect.example.com/api' is not an "
            "http(s) URL",
        ),
        (
            {"ui_url": "prefect.example.com"},
            "tempox.toml: sources.prod.ui_url: 'prefect.example.com' is not an http(s) URL",
        ),
        (
            {"page_size": 500},
            "tempox.toml: sources.prod.page_size: input should be less than or equal to 200 "
            "(got 500)",
        ),
        (
            {"retries": 11},
            "tempox.toml: sources.prod.retries: input should be less than or equal to 10 (got 11)",
        ),
        (
            {"retries": -1},
            "tempox.toml: sources.prod.retries: input should be greater than or equal to 0",
        ),
        ({"timeout": "soon"}, "tempox.toml: sources.prod.timeout: invalid duration 'soon'"),
        ({"overlap": "0s"}, "tempox.toml: sources.prod.overlap: invalid duration '0s'"),
        (
            {"api_key": "pnu_secret"},
            "tempox.toml: sources.prod.api_key: unknown key (expected one of: kind, interval, "
            "deadline, enabled, api_url, api_key_env, auth_string_env,",
        ),
        (
            {"api_key_env": KEY_VARIABLE, "auth_string_env": AUTH_VARIABLE},
            "tempox.toml: sources.prod: give either api_key_env (Prefect Cloud) or auth_string_env "
            "(a self-hosted server with PREFECT_SERVER_API_AUTH_STRING), not both",
        ),
    ],
)
def test_errors_name_the_file_and_key(keys: dict[str, Any], expected: str) -> None:
    assert settings_error(**keys).startswith(expected)


def test_a_missing_api_url_is_named() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings({"sources": {"prod": {"kind": "prefect"}}}, file="tempox.toml")
    assert str(caught.value) == "tempox.toml: sources.prod.api_url: required key is missing"


# -- the API key and the auth string ------------------------------------------------------------


def test_a_missing_api_key_variable_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_VARIABLE, raising=False)
    with pytest.raises(ConfigError) as caught:
        PrefectSession("prod", config(api_url=CLOUD, api_key_env=KEY_VARIABLE))
    assert str(caught.value) == (
        f"source 'prod': environment variable {KEY_VARIABLE} is not set "
        "(sources.prod.api_key_env names it as the place of the secret)"
    )


def test_an_empty_api_key_variable_counts_as_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_VARIABLE, "")
    with pytest.raises(ConfigError, match=KEY_VARIABLE):
        PrefectSession("prod", config(api_url=CLOUD, api_key_env=KEY_VARIABLE))


def test_the_adapter_reads_the_key_when_it_first_talks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Constructing the adapter reads nothing; its session, made on first use, does."""
    monkeypatch.delenv(KEY_VARIABLE, raising=False)
    adapter = PrefectAdapter("prod", config(api_url=CLOUD, api_key_env=KEY_VARIABLE))
    with pytest.raises(ConfigError, match=KEY_VARIABLE):
        adapter.session  # noqa: B018


def test_the_api_key_is_sent_as_a_bearer_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_VARIABLE, "pnu_not_a_real_key")
    session = PrefectSession("prod", config(api_url=CLOUD, api_key_env=KEY_VARIABLE))
    try:
        headers = session.client._client.headers
        assert headers["authorization"] == "Bearer pnu_not_a_real_key"
        assert str(session.client._client.base_url).rstrip("/") == CLOUD
    finally:
        session.close()


def test_without_api_key_env_no_key_is_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PREFECT_API_KEY", raising=False)
    session = PrefectSession("prod", config())
    try:
        assert "authorization" not in session.client._client.headers
    finally:
        session.close()


def test_a_missing_auth_string_variable_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(AUTH_VARIABLE, raising=False)
    with pytest.raises(ConfigError) as caught:
        PrefectSession("prod", config(auth_string_env=AUTH_VARIABLE))
    assert str(caught.value) == (
        f"source 'prod': environment variable {AUTH_VARIABLE} is not set "
        "(sources.prod.auth_string_env names it as the place of the secret)"
    )


def test_the_auth_string_is_sent_as_basic_auth(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(AUTH_VARIABLE, "admin:not-a-real-password")
    session = PrefectSession("prod", config(auth_string_env=AUTH_VARIABLE))
    try:
        headers = session.client._client.headers
        token = base64.b64encode(b"admin:not-a-real-password").decode()
        assert headers["authorization"] == f"Basic {token}"
    finally:
        session.close()
