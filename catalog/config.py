"""Settings: one TOML file, validated, with errors that name the file, the key and the problem.

The file is ``--config PATH``, else ``$TEMPOX_CONFIG``, else ``./tempox.toml`` if it exists, else
none (built-in defaults). ``$TEMPOX_DATABASE_URL`` overrides ``[database] url``::

    [database]
    url = "sqlite:///tempox.db"     # default: a SQLite file in the user data folder
    auto_upgrade = true             # run migrations on start

    [server]
    host = "127.0.0.1"
    port = 8000
    sync_in_background = true
    openlineage_source = "openlineage"  # the source pushed OpenLineage events are filed under
    cors_origins = []               # web pages (origins) allowed to call the API from a browser

    [auth]                          # absent: open, and only on a loopback address
    required = true                 # or $TEMPOX_AUTH_REQUIRED=1; API tokens: `tempox token create`
    oidc_issuer = "https://idp.example.com/"    # optional single sign-on (all three together)
    oidc_audience = "tempox"
    oidc_jwks = "https://idp.example.com/.well-known/jwks.json"   # or a file
    oidc_scopes_claim = "groups"    # where the roles are; oidc_roles maps them to scopes
    oidc_roles = { data-eng = ["read", "write"], ingest-bots = ["ingest"] }

    [sync]
    default_interval = "15m"        # 30s, 5m, 1h, 1d, 1h30m or a number of seconds
    concurrency = 4
    lease_ttl = "10m"

    [sources.prod]
    kind = "synthetic"              # an adapter kind; its own keys follow
    interval = "5m"                 # optional, default [sync] default_interval
    enabled = true

Secrets never appear in the file: an adapter's ``*_env`` keys name environment variables, read
with :func:`read_secret` when the adapter needs them.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from pydantic import (
    BaseModel,
    Field,
    ValidationError,
)

from catalog import adapter as adapters
from catalog.adapter import Adapter, AdapterConfig
from catalog.alerts.settings import AlertSettings
from catalog.errors import ConfigError
from catalog.secrets import register_secret, strip_userinfo
from catalog.settings_sections import (
    AuthSettings,
    DatabaseSettings,
    IdentitySettings,
    LimitSettings,
    Section,
    ServerSettings,
    SyncSettings,
)
from catalog.settings_types import Duration, HttpUrl, format_duration, http_url, parse_duration

__all__ = [
    "AUTH_REQUIRED_ENV",
    "CONFIG_ENV",
    "DATABASE_URL_ENV",
    "DEFAULT_CONFIG_FILE",
    "AlertSettings",
    "AuthSettings",
    "DatabaseSettings",
    "Duration",
    "HttpUrl",
    "IdentitySettings",
    "LimitSettings",
    "ServerSettings",
    "Settings",
    "SourceSettings",
    "SyncSettings",
    "find_config_file",
    "format_duration",
    "http_url",
    "load_settings",
    "parse_duration",
    "parse_settings",
    "read_secret",
]

CONFIG_ENV = "TEMPOX_CONFIG"
DATABASE_URL_ENV = "TEMPOX_DATABASE_URL"
AUTH_REQUIRED_ENV = "TEMPOX_AUTH_REQUIRED"
DEFAULT_CONFIG_FILE = "tempox.toml"

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_TOML_POSITION = re.compile(r"^(?P<msg>.*) \(at line (?P<line>\d+), column (?P<col>\d+)\)$")

M = TypeVar("M", bound=BaseModel)


class _SourceCommon(Section):
    """The keys every ``[sources.<name>]`` table may have; the rest belong to the adapter."""

    kind: str = Field(min_length=1)
    interval: Duration | None = None
    deadline: Duration | None = None
    enabled: bool = True


_COMMON_KEYS = tuple(_SourceCommon.model_fields)


@dataclass(frozen=True)
class SourceSettings:
    """One ``[sources.<name>]`` table, its adapter's keys validated by the adapter's config."""

    name: str
    kind: str
    config: AdapterConfig | None  # None when the adapter's plugin failed to load
    adapter: type[Adapter[Any]] | None = field(default=None, repr=False)
    interval: timedelta | None = None
    enabled: bool = True
    problem: str | None = None  # why ``adapter`` is None
    deadline: timedelta | None = None

    def create_adapter(self) -> Adapter[Any]:
        if self.adapter is None or self.config is None:
            raise ConfigError(f"source {self.name!r}: {self.problem or 'no adapter'}")
        return self.adapter(self.name, self.config)

    def public_settings(self) -> dict[str, Any]:
        """What the store keeps beside the source: the adapter's keys, never a secret's value.

        Secrets live in environment variables that ``*_env`` keys only name; user-info written
        into URLs (``https://user:pass@host``) is left out all the same.
        """
        out: dict[str, Any] = {}
        if self.config is not None:
            out = _mask_urls(self.config.model_dump(mode="json"))
        if self.interval is not None:
            out["interval"] = format_duration(self.interval)
        return out

    def unset_secrets(self, env: Mapping[str, str] | None = None) -> list[str]:
        """What is wrong with the secrets this source names before any sync finds out: each
        ``*_env`` key whose environment variable is unset or empty, as one line naming both."""
        if self.config is None:
            return []
        env = os.environ if env is None else env
        return [
            f"sources.{self.name}.{key} names {variable}, which is not set"
            for key, variable in sorted(self.config.model_dump().items())
            if key.endswith("_env")
            and isinstance(variable, str)
            and variable
            and not env.get(variable)
        ]


@dataclass(frozen=True)
class Settings:
    """Everything Tempox is configured with; ``path`` is the file read (None: defaults only)."""

    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    server: ServerSettings = field(default_factory=ServerSettings)
    sync: SyncSettings = field(default_factory=SyncSettings)
    identity: IdentitySettings = field(default_factory=IdentitySettings)
    sources: Mapping[str, SourceSettings] = field(default_factory=dict)
    path: Path | None = None
    auth: AuthSettings | None = None  # None: no [auth] section, an open server (loopback only)
    limits: LimitSettings = field(default_factory=LimitSettings)
    alerts: AlertSettings = field(default_factory=AlertSettings)

    def interval(self, source: SourceSettings) -> timedelta:
        return source.interval or self.sync.default_interval

    def deadline(self, source: SourceSettings) -> timedelta:
        return source.deadline or self.sync.deadline

    def enabled_sources(self) -> list[SourceSettings]:
        return [s for s in self.sources.values() if s.enabled]

    def with_database(self, url: str) -> Settings:
        return replace(self, database=self.database.model_copy(update={"url": url}))


def read_secret(source: str, key: str, variable: str, env: Mapping[str, str] | None = None) -> str:
    """The value of the environment variable a source's ``key`` (``token_env`` …) names."""
    value = (os.environ if env is None else env).get(variable)
    register_secret(value)  # from now on no error, log line or answer shows it
    if not value:
        raise ConfigError(
            f"source {source!r}: environment variable {variable} is not set "
            f"(sources.{_key((source, key))} names it as the place of the secret)"
        )
    return value


# -- loading --------------------------------------------------------------------------------


def find_config_file(
    path: str | Path | None = None, env: Mapping[str, str] | None = None
) -> Path | None:
    """The file to read: ``path``, else ``$TEMPOX_CONFIG``, else ``./tempox.toml``, else None."""
    env = os.environ if env is None else env
    if path is not None:
        given = Path(path)
        if not given.is_file():
            raise ConfigError(f"{given}: config file not found")
        return given
    if named := env.get(CONFIG_ENV):
        given = Path(named)
        if not given.is_file():
            raise ConfigError(f"{given}: config file not found (named by ${CONFIG_ENV})")
        return given
    default = Path(DEFAULT_CONFIG_FILE)
    return default if default.is_file() else None


def load_settings(path: str | Path | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Find, read and validate the settings; :class:`ConfigError` says what is wrong where."""
    env = os.environ if env is None else env
    found = find_config_file(path, env)
    data: dict[str, Any] = {}
    if found is not None:
        data = _read_toml(found)
    settings = parse_settings(data, file=str(found) if found else "<defaults>", path=found)
    if url := env.get(DATABASE_URL_ENV):
        settings = settings.with_database(url)
    if _truthy(env.get(AUTH_REQUIRED_ENV)):
        auth = settings.auth or AuthSettings()
        settings = replace(settings, auth=auth.model_copy(update={"required": True}))
    return settings


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        if match := _TOML_POSITION.match(message):
            raise ConfigError(
                f"{path}: line {match['line']}, column {match['col']}: invalid TOML: {match['msg']}"
            ) from None
        raise ConfigError(f"{path}: invalid TOML: {message}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text: {exc.reason}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None


def parse_settings(
    data: Mapping[str, Any], *, file: str = "<settings>", path: Path | None = None
) -> Settings:
    """Validate parsed TOML (or an equivalent dict); ``file`` is how errors name its origin."""
    errors: list[str] = []
    sections = {
        "database": DatabaseSettings,
        "server": ServerSettings,
        "sync": SyncSettings,
        "identity": IdentitySettings,
        "auth": AuthSettings,
        "limits": LimitSettings,
        "alerts": AlertSettings,
    }
    for key in data:
        if key not in (*sections, "sources"):
            errors.append(
                f"{file}: {_key((key,))}: unknown section "
                f"(expected {', '.join((*sections, 'sources'))})"
            )
    database = _validate(DatabaseSettings, data.get("database", {}), ("database",), file, errors)
    server = _validate(ServerSettings, data.get("server", {}), ("server",), file, errors)
    sync = _validate(SyncSettings, data.get("sync", {}), ("sync",), file, errors)
    identity = _validate(IdentitySettings, data.get("identity", {}), ("identity",), file, errors)
    limits = _validate(LimitSettings, data.get("limits", {}), ("limits",), file, errors)
    alerts = _validate(AlertSettings, data.get("alerts", {}), ("alerts",), file, errors)
    auth = (
        _validate(AuthSettings, data["auth"], ("auth",), file, errors) if "auth" in data else None
    )
    sources = _parse_sources(data.get("sources", {}), file, errors)
    if (
        errors
        or database is None
        or server is None
        or sync is None
        or identity is None
        or limits is None
        or alerts is None
    ):
        raise ConfigError("\n".join(errors))
    return Settings(
        database=database,
        server=server,
        sync=sync,
        identity=identity,
        sources=sources,
        path=path,
        auth=auth,
        limits=limits,
        alerts=alerts,
    )


def _parse_sources(raw: object, file: str, errors: list[str]) -> dict[str, SourceSettings]:
    if not isinstance(raw, Mapping):
        errors.append(f"{file}: sources: expected tables like [sources.<name>]")
        return {}
    found: dict[str, type[Adapter[Any]]] | None = None
    failures: dict[str, str] | None = None
    out: dict[str, SourceSettings] = {}
    for name, table in raw.items():
        where = ("sources", name)
        if not isinstance(table, Mapping):
            errors.append(f"{file}: {_key(where)}: expected a table [{_key(where)}]")
            continue
        if not 0 < len(name) <= 200:
            errors.append(f"{file}: {_key(where)}: a source name has 1 to 200 characters")
            continue
        common = _validate(
            _SourceCommon,
            {k: v for k, v in table.items() if k in _COMMON_KEYS},
            where,
            file,
            errors,
        )
        if common is None:
            continue
        if found is None:
            # Through the module, so tests can put their own adapters in place of the plugins.
            found = adapters.discover_adapters()
        cls = found.get(common.kind)
        if cls is None:
            if failures is None:
                failures = adapters.scan_adapters().failures
            if common.kind in failures:
                # A broken plugin costs its own sources only: they fail at sync, saying why.
                problem = (
                    f"adapter {common.kind!r} is installed but could not be loaded: "
                    f"{failures[common.kind]}"
                )
                out[name] = SourceSettings(
                    name,
                    common.kind,
                    None,
                    None,
                    common.interval,
                    common.enabled,
                    problem,
                    common.deadline,
                )
            else:
                available = ", ".join(sorted(found)) or "none installed"
                errors.append(
                    f"{file}: {_key((*where, 'kind'))}: unknown adapter kind "
                    f"{common.kind!r} (available: {available})"
                )
            continue
        options = {k: v for k, v in table.items() if k not in _COMMON_KEYS}
        config = _validate(cls.config_class, options, where, file, errors, extra=_COMMON_KEYS)
        if config is not None:
            out[name] = SourceSettings(
                name,
                common.kind,
                config,
                cls,
                common.interval,
                common.enabled,
                deadline=common.deadline,
            )
    return out


def _validate(
    model: type[M],
    value: object,
    where: tuple[str, ...],
    file: str,
    errors: list[str],
    extra: tuple[str, ...] = (),
) -> M | None:
    if not isinstance(value, Mapping):
        errors.append(f"{file}: {_key(where)}: expected a table [{_key(where)}]")
        return None
    try:
        return model.model_validate(dict(value))
    except ValidationError as exc:
        allowed = ", ".join((*extra, *model.model_fields))
        for err in exc.errors():
            key = _key((*where, *err["loc"]))
            errors.append(f"{file}: {key}: {_problem(err, allowed)}")
        return None


def _problem(err: Any, allowed: str) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        return f"unknown key (expected one of: {allowed})"
    if kind == "missing":
        return "required key is missing"
    message = str(err["msg"]).removeprefix("Value error, ")
    if kind != "value_error" and not isinstance(err.get("input"), Mapping | list):
        message += f" (got {err.get('input')!r})"
    return message[:1].lower() + message[1:]


def _key(parts: tuple[object, ...]) -> str:
    """A dotted TOML key: ``sources.prod.interval``, quoting parts that need it."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
            continue
        text = str(part)
        text = text if _BARE_KEY.fullmatch(text) else json.dumps(text)
        out = f"{out}.{text}" if out else text
    return out


def _mask_urls(value: Any) -> Any:
    if isinstance(value, str):
        return strip_userinfo(value) if "://" in value else value
    if isinstance(value, dict):
        return {k: _mask_urls(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_urls(v) for v in value]
    return value
