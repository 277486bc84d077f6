from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from adapters.synthetic import SyntheticAdapter, SyntheticConfig
from catalog import adapter as adapters
from catalog.adapter import Adapter, AdapterConfig
from catalog.config import (
    CONFIG_ENV,
    DATABASE_URL_ENV,
    Settings,
    format_duration,
    load_settings,
    parse_duration,
    read_secret,
)
from catalog.errors import ConfigError
from catalog.records import Batch, Cursor
from catalog.store.engine import default_database_url

VALID = """
[database]
url = "sqlite:///catalog.db"
auto_upgrade = false

[server]
host = "0.0.0.0"
port = 9000
sync_in_background = false

[sync]
default_interval = "1h30m"
concurrency = 2
lease_ttl = 120

[sources.prod]
kind = "synthetic"
interval = "5m"
pipelines = 3
seed = 11

[sources.old]
kind = "synthetic"
enabled = false
"""


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(CONFIG_ENV, raising=False)
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
    monkeypatch.chdir(tmp_path)


def write(text: str, name: str = "tempox.toml") -> Path:
    path = Path(name)
    path.write_text(text)
    return path


def error_of(text: str) -> str:
    write(text)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    return str(caught.value)


def test_defaults_without_a_file() -> None:
    settings = load_settings()
    assert settings.path is None
    assert settings.database.url == default_database_url()
    assert settings.database.auto_upgrade is True
    assert (settings.server.host, settings.server.port) == ("127.0.0.1", 8000)
    assert settings.sync.default_interval == timedelta(minutes=15)
    assert settings.sync.lease_ttl == timedelta(minutes=10)
    assert settings.sources == {}


def test_a_valid_file() -> None:
    write(VALID)
    settings = load_settings()
    assert settings.path == Path("tempox.toml")
    assert settings.database.url == "sqlite:///catalog.db"
    assert settings.database.auto_upgrade is False
    assert settings.server.port == 9000
    assert settings.sync.default_interval == timedelta(hours=1, minutes=30)
    assert settings.sync.lease_ttl == timedelta(minutes=2)
    prod = settings.sources["prod"]
    assert prod.adapter is SyntheticAdapter
    assert isinstance(prod.config, SyntheticConfig)
    assert (prod.config.pipelines, prod.config.seed) == (3, 11)
    assert settings.interval(prod) == timedelta(minutes=5)
    assert settings.interval(settings.sources["old"]) == timedelta(hours=1, minutes=30)
    assert [s.name for s in settings.enabled_sources()] == ["prod"]
    assert isinstance(prod.create_adapter(), SyntheticAdapter)


def test_lookup_order(monkeypatch: pytest.MonkeyPatch) -> None:
    write("[server]\nport = 1001\n")
    write("[server]\nport = 1002\n", "from-env.toml")
    write("[server]\nport = 1003\n", "explicit.toml")
    assert load_settings().server.port == 1001
    monkeypatch.setenv(CONFIG_ENV, "from-env.toml")
    assert load_settings().server.port == 1002
    assert load_settings("explicit.toml").server.port == 1003


def test_missing_files_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match=r"^nope\.toml: config file not found$"):
        load_settings("nope.toml")
    monkeypatch.setenv(CONFIG_ENV, "gone.toml")
    with pytest.raises(ConfigError, match=r"gone\.toml: config file not found .*TEMPOX_CONFIG"):
        load_settings()


def test_database_url_from_the_environment_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    write(VALID)
    monkeypatch.setenv(DATABASE_URL_ENV, "postgresql://tempox@db/catalog")
    settings = load_settings()
    assert settings.database.url == "postgresql://tempox@db/catalog"
    assert settings.database.auto_upgrade is False  # the rest of the section still applies


def test_broken_toml_names_file_and_line() -> None:
    message = error_of("[server]\nport = 8000\nhost = \n")
    assert message.startswith("tempox.toml: line 3, column ")
    assert "invalid TOML" in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '[sources.prod]\nkind = "synthetic"\ninterval = "abc"\n',
            "tempox.toml: sources.prod.interval: invalid duration 'abc' (use e.g. 30s, 5m, 1h)",
        ),
        (
            '[sync]\nlease_ttl = "-5m"\n',
            "tempox.toml: sync.lease_ttl: invalid duration '-5m' (use e.g. 30s, 5m, 1h)",
        ),
        (
            "[server]\nport = 70000\n",
            "tempox.toml: server.port: input should be less than or equal to 65535 (got 70000)",
        ),
        (
            "[server]\nprot = 8000\n",
            "tempox.toml: server.prot: unknown key (expected one of: host, port, "
            "sync_in_background, openlineage_source, cors_origins)",
        ),
        (
            '[sources.prod]\nkind = "synthetic"\npipelines = "ten"\n',
            "tempox.toml: sources.prod.pipelines: input should be a valid integer, unable to "
            "parse string as an integer (got 'ten')",
        ),
        (
            '[sources.prod]\nkind = "synthetic"\npipeline = 3\n',
            "tempox.toml: sources.prod.pipeline: unknown key (expected one of: kind, interval, "
            "deadline, enabled, pipelines,",
        ),
        ("[sources.prod]\ninterval = '5m'\n", "tempox.toml: sources.prod.kind: required key"),
        ("[databse]\nurl = 'x'\n", "tempox.toml: databse: unknown section"),
        ('sources = "prod"\n', "tempox.toml: sources: expected tables like [sources.<name>]"),
        (
            '[sources."a.b"]\nkind = "synthetic"\nseed = "x"\n',
            'tempox.toml: sources."a.b".seed: input should be a valid integer',
        ),
    ],
)
def test_bad_values_name_file_key_and_problem(text: str, expected: str) -> None:
    assert error_of(text).startswith(expected)


def test_every_problem_is_reported_at_once() -> None:
    message = error_of("[server]\nport = 'x'\n[sync]\nconcurrency = 0\n")
    assert message.splitlines()[0].startswith("tempox.toml: server.port:")
    assert message.splitlines()[1].startswith("tempox.toml: sync.concurrency:")


def test_unknown_kind_names_the_kinds_available() -> None:
    message = error_of('[sources.prod]\nkind = "airflw"\n')
    assert message == (
        "tempox.toml: sources.prod.kind: unknown adapter kind 'airflw' "
        "(available: airflow, dagster, openlineage, prefect, synthetic)"
    )


class TokenConfig(AdapterConfig):
    url: str
    token_env: str


class TokenAdapter(Adapter[TokenConfig]):
    kind = "token"
    config_class = TokenConfig

    def __init__(self, name: str, config: TokenConfig) -> None:
        super().__init__(name, config)
        self.token = read_secret(name, "token_env", config.token_env)

    def fetch(self, cursor: Cursor | None) -> Iterator[Batch]:
        return iter(())


def test_an_unset_secret_names_the_source_and_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(adapters, "discover_adapters", lambda: {"token": TokenAdapter})
    monkeypatch.delenv("PROD_TOKEN", raising=False)
    write('[sources.prod]\nkind = "token"\nurl = "https://x"\ntoken_env = "PROD_TOKEN"\n')
    source = load_settings().sources["prod"]
    with pytest.raises(ConfigError) as caught:
        source.create_adapter()
    assert str(caught.value) == (
        "source 'prod': environment variable PROD_TOKEN is not set "
        "(sources.prod.token_env names it as the place of the secret)"
    )
    monkeypatch.setenv("PROD_TOKEN", "s3cret")
    adapter = source.create_adapter()
    assert isinstance(adapter, TokenAdapter)
    assert adapter.token == "s3cret"


def test_stored_settings_hold_no_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(adapters, "discover_adapters", lambda: {"token": TokenAdapter})
    monkeypatch.setenv("PROD_TOKEN", "s3cret")
    write(
        '[sources.prod]\nkind = "token"\ninterval = 90\n'
        'url = "https://bot:hunter2@airflow.example/api"\ntoken_env = "PROD_TOKEN"\n'
    )
    public = load_settings().sources["prod"].public_settings()
    assert public == {
        "url": "https://airflow.example/api",
        "token_env": "PROD_TOKEN",
        "interval": "1m30s",
    }
    assert "s3cret" not in repr(public)


def test_a_config_field_that_would_hold_a_secret_is_refused() -> None:
    with pytest.raises(TypeError, match="api_token_env"):

        class Leaky(AdapterConfig):
            api_token: str


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30s", 30),
        ("5m", 300),
        ("1h", 3600),
        ("1d", 86400),
        ("1h30m", 5400),
        ("45", 45),
        (2.5, 2.5),
        ("0.5s", 0.5),
    ],
)
def test_durations(text: str | float, seconds: float) -> None:
    assert parse_duration(text).total_seconds() == seconds
    assert parse_duration(format_duration(parse_duration(text))) == parse_duration(text)


@pytest.mark.parametrize("bad", ["", "5 minutes", "m", "0s", -1, True, "1w"])
def test_bad_durations(bad: object) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(bad)


def test_settings_can_be_built_in_code() -> None:
    assert Settings().sync.concurrency == 4


def test_limits_and_auth_sections() -> None:
    write('[limits]\nmax_query_cost = 1000\nquery_timeout = "2s"\n[auth]\n')
    settings = load_settings()
    assert settings.limits.max_query_cost == 1000
    assert settings.limits.query_timeout == timedelta(seconds=2)
    assert settings.limits.cache_bytes == 64 * 1024 * 1024
    assert settings.auth is not None
    assert settings.auth.required is True  # the section alone requires auth
    assert error_of("[limits]\nmax_concurrent_queries = 0\n").startswith(
        "tempox.toml: limits.max_concurrent_queries: input should be greater than or equal to 1"
    )
    assert error_of('[limits]\nquery_timeout = "soon"\n').startswith(
        "tempox.toml: limits.query_timeout: invalid duration 'soon'"
    )
    assert error_of("[auth]\npassword = 'x'\n").startswith(
        "tempox.toml: auth.password: unknown key"
    )
