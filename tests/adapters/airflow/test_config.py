"""The keys of a ``kind = "airflow"`` source: what is accepted, what is refused, and how."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from adapters.airflow import AirflowAdapter, AirflowConfig
from catalog.adapter import adapter_class, discover_adapters
from catalog.config import Settings, parse_settings
from catalog.errors import ConfigError

URL = "https://airflow.example.com"
PASSWORD = {"username": "tempox", "password_env": "AIRFLOW_PASSWORD"}
TOKEN = {"token_env": "AIRFLOW_TOKEN"}


def config(**keys: Any) -> AirflowConfig:
    return AirflowConfig.model_validate({"base_url": URL} | keys)


def refusal(**keys: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        config(**keys)
    return str(caught.value)


def settings(**keys: Any) -> Settings:
    source = {"kind": "airflow", "base_url": URL} | keys
    return parse_settings({"sources": {"prod": source}}, file="tempox.toml")


def settings_error(**keys: Any) -> str:
    with pytest.raises(ConfigError) as caught:
        settings(**keys)
    return str(caught.value)


# -- signing in ---------------------------------------------------------------------------------


def test_username_and_password_env() -> None:
    c = config(**PASSWORD)
    assert (c.username, c.password_env, c.token_env) == ("tempox", "AIRFLOW_PASSWORD", None)


def test_token_env() -> None:
    c = config(**TOKEN)
    assert (c.username, c.password_env, c.token_env) == (None, None, "AIRFLOW_TOKEN")


@pytest.mark.parametrize(
    "keys",
    [
        PASSWORD | TOKEN,
        {"username": "tempox"} | TOKEN,
        {"password_env": "AIRFLOW_PASSWORD"} | TOKEN,
    ],
)
def test_a_token_and_a_password_together_are_refused(keys: dict[str, str]) -> None:
    assert "not both" in refusal(**keys)


@pytest.mark.parametrize(
    "keys",
    [{}, {"username": "tempox"}, {"password_env": "AIRFLOW_PASSWORD"}],
)
def test_no_complete_way_to_sign_in_is_refused(keys: dict[str, str]) -> None:
    assert "give username and password_env, or token_env, to sign in" in refusal(**keys)


# -- URLs ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["ftp://airflow.example.com", "airflow.example.com", "http://", "file:///srv/x", " "]
)
def test_base_url_must_be_http(url: str) -> None:
    assert "is not an http(s) URL" in refusal(base_url=url, **TOKEN)


def test_base_url_is_required() -> None:
    with pytest.raises(ValidationError, match="base_url"):
        AirflowConfig.model_validate(TOKEN)


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("https://airflow.example.com/", "https://airflow.example.com"),
        ("http://127.0.0.1:8080//", "http://127.0.0.1:8080"),
        ("https://example.com/airflow/", "https://example.com/airflow"),
        ("https://example.com/airflow", "https://example.com/airflow"),
    ],
)
def test_trailing_slashes_are_stripped(url: str, kept: str) -> None:
    assert config(base_url=url, **TOKEN).base_url == kept
    assert config(ui_url=url, **TOKEN).ui_url == kept


def test_ui_url_is_checked_like_base_url() -> None:
    assert config(**TOKEN).ui_url is None
    assert "is not an http(s) URL" in refusal(ui_url="airflow.example.com/ui", **TOKEN)


# -- numbers and durations ------------------------------------------------------------------------


def test_defaults() -> None:
    c = config(**TOKEN)
    assert c.page_size == 100
    assert c.verify_tls is True
    assert c.ca_bundle is None
    assert c.timeout == timedelta(seconds=30)
    assert c.connect_timeout == timedelta(seconds=10)
    assert c.overlap == timedelta(minutes=2)


@pytest.mark.parametrize("size", [1, 50, 100])
def test_page_sizes_up_to_the_server_cap(size: int) -> None:
    assert config(page_size=size, **TOKEN).page_size == size


@pytest.mark.parametrize("size", [0, -1, 101, 1000])
def test_page_sizes_outside_one_to_a_hundred_are_refused(size: int) -> None:
    assert "page_size" in refusal(page_size=size, **TOKEN)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("30s", timedelta(seconds=30)), ("1m30s", timedelta(seconds=90)), (5, timedelta(seconds=5))],
)
def test_durations(text: str | int, expected: timedelta) -> None:
    c = config(timeout=text, connect_timeout=text, overlap=text, **TOKEN)
    assert c.timeout == c.connect_timeout == c.overlap == expected


@pytest.mark.parametrize("bad", ["soon", "0s", "-5s", ""])
def test_bad_durations_are_refused(bad: str) -> None:
    assert "invalid duration" in refusal(timeout=bad, **TOKEN)


def test_unknown_keys_and_secrets_as_values_are_refused() -> None:
    assert "extra" in refusal(pasword_env="X", **TOKEN).lower()
    assert "extra" in refusal(password="hunter2", **PASSWORD).lower()


def test_the_config_is_frozen() -> None:
    c = config(**TOKEN)
    with pytest.raises(ValidationError):
        c.page_size = 5  # type: ignore[misc]


# -- through the settings file --------------------------------------------------------------------


def test_the_airflow_kind_is_found_through_its_entry_point() -> None:
    assert adapter_class("airflow") is AirflowAdapter
    assert discover_adapters()["airflow"] is AirflowAdapter
    assert AirflowAdapter.kind == "airflow"
    assert AirflowAdapter.config_class is AirflowConfig


def test_a_valid_source_in_the_settings() -> None:
    found = settings(base_url=URL + "/", interval="5m", timeout="30s", **PASSWORD)
    source = found.sources["prod"]
    assert source.kind == "airflow"
    assert source.adapter is AirflowAdapter
    assert isinstance(source.config, AirflowConfig)
    assert source.config.base_url == URL
    assert source.config.timeout == timedelta(seconds=30)
    assert source.interval == timedelta(minutes=5)
    adapter = source.create_adapter()
    assert isinstance(adapter, AirflowAdapter)
    assert adapter.base_url == URL
    assert adapter.name == "prod"


def test_stored_settings_name_the_variables_not_the_secrets() -> None:
    public = settings(**PASSWORD).sources["prod"].public_settings()
    assert public["password_env"] == "AIRFLOW_PASSWORD"
    assert public["base_url"] == URL


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        (
            {"base_url": "ftp://airflow.example.com"} | TOKEN,
            "tempox.toml: sources.prod.base_url: 'ftp://airflow.example.com' is not an http(s) URL",
        ),
        (
            {"page_size": 500} | TOKEN,
            "tempox.toml: sources.prod.page_size: input should be less than or equal to 100 "
            "(got 500)",
        ),
        (
            {"timeout": "soon"} | TOKEN,
            "tempox.toml: sources.prod.timeout: invalid duration 'soon'",
        ),
        (
            {"password": "hunter2"} | PASSWORD,
            "tempox.toml: sources.prod.password: unknown key (expected one of: kind, interval, "
            "deadline, enabled, base_url, username, password_env, token_env,",
        ),
        (
            PASSWORD | TOKEN,
            "tempox.toml: sources.prod: give either token_env or username and password_env, "
            "not both",
        ),
        (
            {},
            "tempox.toml: sources.prod: give username and password_env, or token_env, to sign in",
        ),
    ],
)
def test_errors_name_the_file_and_key(keys: dict[str, Any], expected: str) -> None:
    assert settings_error(**keys).startswith(expected)


def test_a_missing_base_url_is_named() -> None:
    source = {"kind": "airflow"} | TOKEN
    with pytest.raises(ConfigError) as caught:
        parse_settings({"sources": {"prod": source}}, file="tempox.toml")
    assert str(caught.value) == "tempox.toml: sources.prod.base_url: required key is missing"
