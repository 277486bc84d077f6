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
import math
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, TypeVar
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from catalog import adapter as adapters
from catalog.adapter import Adapter, AdapterConfig
from catalog.errors import ConfigError
from catalog.identity import IdentityRules, Rule, canonical
from catalog.secrets import register_secret, strip_userinfo
from catalog.store.engine import default_database_url

__all__ = [
    "AUTH_REQUIRED_ENV",
    "CONFIG_ENV",
    "DATABASE_URL_ENV",
    "DEFAULT_CONFIG_FILE",
    "AuthSettings",
    "DatabaseSettings",
    "Duration",
    "ServerSettings",
    "Settings",
    "SourceSettings",
    "SyncSettings",
    "find_config_file",
    "format_duration",
    "load_settings",
    "parse_duration",
    "parse_settings",
    "read_secret",
]

CONFIG_ENV = "TEMPOX_CONFIG"
DATABASE_URL_ENV = "TEMPOX_DATABASE_URL"
AUTH_REQUIRED_ENV = "TEMPOX_AUTH_REQUIRED"
DEFAULT_CONFIG_FILE = "tempox.toml"

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"(?:\d+(?:\.\d+)?[smhd])+")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)([smhd])")
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_TOML_POSITION = re.compile(r"^(?P<msg>.*) \(at line (?P<line>\d+), column (?P<col>\d+)\)$")

M = TypeVar("M", bound=BaseModel)


def parse_duration(value: object) -> timedelta:
    """``"30s"``, ``"5m"``, ``"1h30m"``, ``"1d"``, or a number of seconds, as a timedelta."""
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str) and _DURATION.fullmatch(text := value.strip().lower()):
        seconds = sum(float(n) * _UNITS[u] for n, u in _DURATION_PART.findall(text))
    elif isinstance(value, str) and _is_number(value):
        seconds = float(value)
    else:
        raise ValueError(f"invalid duration {value!r} (use e.g. 30s, 5m, 1h)")
    if not (math.isfinite(seconds) and seconds > 0):
        raise ValueError(f"invalid duration {value!r}: it must be more than zero")
    return timedelta(seconds=seconds)


def format_duration(value: timedelta) -> str:
    """The shortest spelling :func:`parse_duration` reads back: ``90s`` is ``1m30s``."""
    seconds = value.total_seconds()
    if seconds != int(seconds):
        return f"{seconds:g}s"
    parts, rest = [], int(seconds)
    for unit, size in sorted(_UNITS.items(), key=lambda u: -u[1]):
        if rest >= size:
            parts.append(f"{rest // size}{unit}")
            rest %= size
    return "".join(parts) or "0s"


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


def http_url(value: str) -> str:
    """An http(s) URL with a host, without a trailing slash; else a ValueError naming it."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{value!r} is not an http(s) URL")
    return value.rstrip("/")


HttpUrl = Annotated[str, AfterValidator(http_url)]  # for adapters' server addresses


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatabaseSettings(_Section):
    url: str = Field(default_factory=default_database_url, min_length=1)
    auto_upgrade: bool = True


class ServerSettings(_Section):
    host: str = Field(default="127.0.0.1", min_length=1)
    port: int = Field(default=8000, ge=1, le=65535)
    sync_in_background: bool = True
    openlineage_source: str = Field(default="openlineage", min_length=1, max_length=200)
    # Web pages on these origins may call the API from a browser (CORS); none by default.
    cors_origins: tuple[str, ...] = ()


class AuthSettings(_Section):
    """``[auth]``: who may use the API. With the section (or ``$TEMPOX_AUTH_REQUIRED=1``) every
    endpoint but ``/healthz`` needs a bearer token, an API token or an OIDC JWT."""

    required: bool = True
    # OIDC single sign-on: JWTs signed by the organisation's identity provider.
    oidc_issuer: str | None = Field(default=None, min_length=1)
    oidc_audience: str | None = Field(default=None, min_length=1)
    oidc_jwks: str | None = Field(default=None, min_length=1)  # a URL or a JSON file of keys
    oidc_algorithms: tuple[str, ...] = ("RS256", "RS384", "RS512", "ES256", "ES384", "PS256")
    oidc_principal_claim: str = Field(default="sub", min_length=1)
    oidc_scopes_claim: str = Field(default="scope", min_length=1)  # a list, or space-separated
    # A claim value (a role or group) → the Tempox scopes it grants. Empty: values that are
    # scope names ("read", "write" …) grant themselves.
    oidc_roles: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    oidc_leeway: Duration = timedelta(seconds=30)  # clock skew allowed on exp and nbf

    @model_validator(mode="after")
    def _oidc_complete(self) -> AuthSettings:
        given = [self.oidc_issuer, self.oidc_audience, self.oidc_jwks]
        if any(v is not None for v in given) and not all(v is not None for v in given):
            raise ValueError("oidc_issuer, oidc_audience and oidc_jwks go together")
        unsafe = [a for a in self.oidc_algorithms if a[:2] not in ("RS", "ES", "PS", "Ed")]
        if unsafe:
            raise ValueError(
                f"oidc_algorithms: {', '.join(unsafe)} not allowed (public-key algorithms only)"
            )
        scopes = ("admin", "ingest", "read", "write")
        for role, granted in self.oidc_roles.items():
            for scope in granted:
                if scope not in scopes:
                    known = ", ".join(scopes)
                    raise ValueError(f"oidc_roles.{role}: unknown scope {scope!r} (use {known})")
        return self

    @property
    def oidc(self) -> bool:
        return self.oidc_issuer is not None


class SyncSettings(_Section):
    default_interval: Duration = timedelta(minutes=15)
    concurrency: int = Field(default=4, ge=1, le=64)
    lease_ttl: Duration = timedelta(minutes=10)


class IdentityRuleSettings(_Section):
    """``[[identity.rules]]``: ``prefix`` → ``replace``, or ``pattern`` → ``uri`` (a template
    naming the pattern's groups: ``"postgres://db:5432/{db}.{schema}.{table}"``)."""

    name: str | None = None
    prefix: str | None = Field(default=None, min_length=1)
    replace: str | None = None
    pattern: str | None = Field(default=None, min_length=1)
    uri: str | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _one_kind(self) -> IdentityRuleSettings:
        prefix = self.prefix is not None or self.replace is not None
        pattern = self.pattern is not None or self.uri is not None
        if prefix == pattern:
            raise ValueError("give prefix and replace, or pattern and uri")
        if prefix and (self.prefix is None or self.replace is None):
            raise ValueError("prefix and replace go together")
        if pattern and (self.pattern is None or self.uri is None):
            raise ValueError("pattern and uri go together")
        if self.pattern is not None and self.uri is not None:
            try:
                compiled = re.compile(self.pattern)
            except re.error as exc:
                raise ValueError(
                    f"pattern {self.pattern!r} is not a regular expression: {exc}"
                ) from None
            # "{name}" for a named group, "{0}", "{1}" … for the groups in order.
            groups = [str(i) for i in range(compiled.groups)] + list(compiled.groupindex)
            for wanted in re.findall(r"{([^{}]*)}", self.uri):
                if wanted not in groups and wanted != "":
                    raise ValueError(f"uri names group {{{wanted}}}, which pattern does not have")
        return self

    def compile(self, position: int) -> Rule:
        name = self.name or f"#{position}"
        if self.pattern is not None:
            return Rule(name, pattern=re.compile(self.pattern), uri=self.uri)
        return Rule(name, prefix=self.prefix, replace=self.replace)


class IdentitySettings(_Section):
    """``[identity]``: how asset references of every source become one identity."""

    rules: tuple[IdentityRuleSettings, ...] = ()
    aliases: dict[str, str] = Field(default_factory=dict)  # a spelling → the identity it is

    def compile(self) -> IdentityRules:
        return IdentityRules(
            rules=tuple(r.compile(i) for i, r in enumerate(self.rules, start=1)),
            aliases={canonical(k): canonical(v) for k, v in self.aliases.items()},
        )


class _SourceCommon(_Section):
    """The keys every ``[sources.<name>]`` table may have; the rest belong to the adapter."""

    kind: str = Field(min_length=1)
    interval: Duration | None = None
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

    def interval(self, source: SourceSettings) -> timedelta:
        return source.interval or self.sync.default_interval

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
    auth = (
        _validate(AuthSettings, data["auth"], ("auth",), file, errors) if "auth" in data else None
    )
    sources = _parse_sources(data.get("sources", {}), file, errors)
    if errors or database is None or server is None or sync is None or identity is None:
        raise ConfigError("\n".join(errors))
    return Settings(
        database=database,
        server=server,
        sync=sync,
        identity=identity,
        sources=sources,
        path=path,
        auth=auth,
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
                    name, common.kind, None, None, common.interval, common.enabled, problem
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
                name, common.kind, config, cls, common.interval, common.enabled
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
