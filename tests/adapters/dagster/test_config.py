"""The keys of a ``kind = "dagster"`` source: what is accepted, what is refused, and how."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from adapters.dagster import DagsterAdapter, DagsterConfig
from adapters.dagster.keys import AssetRule
from adapters.dagster.session import TOKEN_HEADER, DagsterSession
from catalog.adapter import adapter_class, discover_adapters
from catalog.config import Settings, parse_settings
from catalog.errors import ConfigError

URL = "http://dagster.example.com:3000"
CLOUD = "https://acme.dagster.cloud/prod"
TOKEN_VARIABLE = "TEMPOX_TEST_DAGSTER_TOKEN"


def config(**keys: Any) -> DagsterConfig:
    return DagsterConfig.model_validate({"url": URL} | keys)


def refusal(**keys: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        config(**keys)
    return str(caught.value)


def settings(**keys: Any) -> Settings:
    source = {"kind": "dagster", "url": URL} | keys
    return parse_settings({"sources": {"d": source}}, file="t.toml")


def settings_error(**keys: Any) -> str:
    with pytest.raises(ConfigError) as caught:
        settings(**keys)
    return str(caught.value)


# -- URLs -----------------------------------------------------------------------------------------


def test_url_is_required() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings({"sources": {"d": {"kind": "dagster"}}}, file="t.toml")
    assert str(caught.value) == "t.toml: sources.d.url: required key is missing"


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("http://127.0.0.1:3000", "http://127.0.0.1:3000"),
        ("http://127.0.0.1:3000/", "http://127.0.0.1:3000"),
        ("http://127.0.0.1:3000//", "http://127.0.0.1:3000"),
        ("http://127.0.0.1:3000/graphql", "http://127.0.0.1:3000"),
        ("http://127.0.0.1:3000/graphql/", "http://127.0.0.1:3000"),
        ("https://example.com/dagster/graphql", "https://example.com/dagster"),
        (CLOUD, CLOUD),
        (CLOUD + "/graphql", CLOUD),
        (CLOUD + "/", CLOUD),
    ],
)
def test_url_normalisation(url: str, kept: str) -> None:
    source = settings(url=url).sources["d"]
    assert isinstance(source.config, DagsterConfig)
    assert source.config.url == kept
    assert source.config.graphql_url == f"{kept}/graphql"
    assert config(ui_url=url).ui_url == kept


@pytest.mark.parametrize(
    "url", ["ftp://dagster.example.com", "dagster:3000", "http://", "file:///srv", "//dagster"]
)
def test_url_must_be_http(url: str) -> None:
    assert settings_error(url=url) == f"t.toml: sources.d.url: {url!r} is not an http(s) URL"


def test_an_empty_url_is_refused() -> None:
    assert settings_error(url="") == "t.toml: sources.d.url: '' is not an http(s) URL"


def test_ui_url_is_checked_like_url() -> None:
    assert config().ui_url is None
    assert settings_error(ui_url="dagster.example.com") == (
        "t.toml: sources.d.ui_url: 'dagster.example.com' is not an http(s) URL"
    )


def test_links_use_ui_url_when_given() -> None:
    assert config().links == URL
    assert config(ui_url="https://dagster-ui.example.com/").links == (
        "https://dagster-ui.example.com"
    )
    adapter = DagsterAdapter("d", config(ui_url="https://dagster-ui.example.com"))
    assert adapter.links.run("abc") == "https://dagster-ui.example.com/runs/abc"
    assert adapter.base_url == URL


# -- numbers and durations ------------------------------------------------------------------------


def test_defaults() -> None:
    c = config()
    assert c.token_env is None
    assert c.ui_url is None
    assert c.verify_tls is True
    assert c.ca_bundle is None
    assert c.timeout == timedelta(seconds=30)
    assert c.page_size == 100
    assert c.overlap == timedelta(minutes=2)
    assert c.asset_rules == ()
    assert c.owner_tags == ("team", "owner", "dagster/owner")


@pytest.mark.parametrize("size", [1, 100, 1000])
def test_page_sizes_within_bounds(size: int) -> None:
    assert config(page_size=size).page_size == size


@pytest.mark.parametrize(
    ("size", "problem"),
    [
        (0, "input should be greater than or equal to 1 (got 0)"),
        (-1, "input should be greater than or equal to 1 (got -1)"),
        (1001, "input should be less than or equal to 1000 (got 1001)"),
    ],
)
def test_page_sizes_outside_bounds_are_refused(size: int, problem: str) -> None:
    assert settings_error(page_size=size) == f"t.toml: sources.d.page_size: {problem}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("30s", timedelta(seconds=30)), ("1m30s", timedelta(seconds=90)), (5, timedelta(seconds=5))],
)
def test_durations(text: str | int, expected: timedelta) -> None:
    source = settings(timeout=text, overlap=text).sources["d"]
    assert isinstance(source.config, DagsterConfig)
    assert source.config.timeout == source.config.overlap == expected


@pytest.mark.parametrize("key", ["timeout", "overlap"])
def test_bad_durations_are_refused(key: str) -> None:
    assert settings_error(**{key: "soon"}).startswith(
        f"t.toml: sources.d.{key}: invalid duration 'soon'"
    )
    assert settings_error(**{key: "0s"}).startswith(
        f"t.toml: sources.d.{key}: invalid duration '0s'"
    )


# -- asset rules ----------------------------------------------------------------------------------


def test_asset_rules_as_toml_writes_them() -> None:
    """``[[sources.d.asset_rules]]`` tables arrive as a list of dicts, prefixes as lists."""
    rules = [
        {"prefix": ["lake"], "namespace": "s3://lake/"},
        {"prefix": ["warehouse"], "namespace": "postgres://db:5432", "separator": "."},
        {"namespace": "s3://everything"},
    ]
    source = settings(asset_rules=rules).sources["d"]
    assert isinstance(source.config, DagsterConfig)
    assert source.config.asset_rules == (
        AssetRule(prefix=("lake",), namespace="s3://lake"),
        AssetRule(prefix=("warehouse",), namespace="postgres://db:5432", separator="."),
        AssetRule(prefix=(), namespace="s3://everything"),
    )
    adapter = source.create_adapter()
    assert isinstance(adapter, DagsterAdapter)
    assert adapter.keys.uri(["lake", "raw", "orders"]) == "s3://lake/raw/orders"
    assert adapter.keys.uri(["warehouse", "public", "orders"]) == "postgres://db:5432/public.orders"
    assert adapter.keys.uri(["other"]) == "s3://everything/other"


def test_without_rules_keys_are_named_after_the_dagster_host() -> None:
    adapter = settings().sources["d"].create_adapter()
    assert isinstance(adapter, DagsterAdapter)
    assert adapter.keys.uri(["a", "b"]) == "dagster://dagster.example.com:3000/a/b"


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        (
            [{"prefix": ["lake"], "namespace": "lake"}],
            "t.toml: sources.d.asset_rules[0].namespace: 'lake' is not a namespace URI such as "
            "'s3://bucket'",
        ),
        (
            [{"namespace": "s3://a"}, {"prefix": ["x"]}],
            "t.toml: sources.d.asset_rules[1].namespace: required key is missing",
        ),
        (
            [{"namespace": "s3://a", "bucket": "a"}],
            "t.toml: sources.d.asset_rules[0].bucket: unknown key",
        ),
        (
            [{"namespace": "s3://a", "separator": ""}],
            "t.toml: sources.d.asset_rules[0].separator: string should have at least 1 character",
        ),
    ],
)
def test_bad_asset_rules_name_the_rule(rules: list[dict[str, Any]], expected: str) -> None:
    assert settings_error(asset_rules=rules).startswith(expected)


# -- owner tags -----------------------------------------------------------------------------------


def test_owner_tags_replace_the_default_and_reach_the_adapter() -> None:
    source = settings(owner_tags=["squad", "owner"]).sources["d"]
    assert isinstance(source.config, DagsterConfig)
    assert source.config.owner_tags == ("squad", "owner")
    assert settings(owner_tags=[]).sources["d"].config.owner_tags == ()  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (["team", ""], "t.toml: sources.d.owner_tags[1]: string should have at least 1 character"),
        ("team", "t.toml: sources.d.owner_tags: input should be a valid tuple"),
        ([3], "t.toml: sources.d.owner_tags[0]: input should be a valid string"),
    ],
)
def test_bad_owner_tags_are_named(value: Any, expected: str) -> None:
    assert settings_error(owner_tags=value).startswith(expected)


# -- unknown keys and secrets ---------------------------------------------------------------------


def test_an_unknown_key_is_refused() -> None:
    assert settings_error(page_sise=10).startswith(
        "t.toml: sources.d.page_sise: unknown key (expected one of: kind, interval, deadline, "
        "enabled, url, token_env, ui_url,"
    )


@pytest.mark.parametrize("key", ["token", "api_token", "password", "api_key"])
def test_a_secret_as_a_value_is_refused(key: str) -> None:
    assert settings_error(**{key: "user:hunter2"}).startswith(
        f"t.toml: sources.d.{key}: unknown key"
    )


def test_token_env_is_accepted_and_stored_as_the_variable_s_name() -> None:
    source = settings(url=CLOUD, token_env=TOKEN_VARIABLE).sources["d"]
    assert isinstance(source.config, DagsterConfig)
    assert source.config.token_env == TOKEN_VARIABLE
    public = source.public_settings()
    assert public["token_env"] == TOKEN_VARIABLE
    assert public["url"] == CLOUD


def test_a_missing_token_variable_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TOKEN_VARIABLE, raising=False)
    with pytest.raises(ConfigError) as caught:
        DagsterSession("d", config(url=CLOUD, token_env=TOKEN_VARIABLE))
    assert str(caught.value) == (
        f"source 'd': environment variable {TOKEN_VARIABLE} is not set "
        "(sources.d.token_env names it as the place of the secret)"
    )


def test_the_adapter_reads_the_token_when_it_first_talks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TOKEN_VARIABLE, raising=False)
    adapter = DagsterAdapter("d", config(url=CLOUD, token_env=TOKEN_VARIABLE))
    with pytest.raises(ConfigError, match=TOKEN_VARIABLE):
        adapter.session  # noqa: B018


def test_the_token_goes_into_the_session_s_headers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_VARIABLE, "user:not-a-real-token")
    session = DagsterSession("d", config(url=CLOUD, token_env=TOKEN_VARIABLE))
    try:
        assert session.http.headers[TOKEN_HEADER] == "user:not-a-real-token"
    finally:
        session.close()
    plain = DagsterSession("d", config())
    try:
        assert TOKEN_HEADER not in plain.http.headers
    finally:
        plain.close()


# -- the kind -------------------------------------------------------------------------------------


def test_the_dagster_kind_is_found_through_its_entry_point() -> None:
    assert adapter_class("dagster") is DagsterAdapter
    assert discover_adapters()["dagster"] is DagsterAdapter
    assert DagsterAdapter.kind == "dagster"
    assert DagsterAdapter.config_class is DagsterConfig


def test_a_valid_source_in_the_settings() -> None:
    found = settings(url=URL + "/graphql", interval="5m", timeout="10s", page_size=50)
    source = found.sources["d"]
    assert source.kind == "dagster"
    assert source.adapter is DagsterAdapter
    assert source.interval == timedelta(minutes=5)
    adapter = source.create_adapter()
    assert isinstance(adapter, DagsterAdapter)
    assert adapter.name == "d"
    assert adapter.base_url == URL
    assert adapter.config.timeout == timedelta(seconds=10)
    assert adapter.config.page_size == 50


def test_the_config_is_frozen() -> None:
    c = config()
    with pytest.raises(ValidationError):
        c.page_size = 5  # type: ignore[misc]
