"""The sections of the settings file other than ``[sources]``, each validated by its model."""

from __future__ import annotations

import re
from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field, model_validator

from catalog.identity import IdentityRules, Rule, canonical
from catalog.settings_types import Duration
from catalog.store.engine import default_database_url


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatabaseSettings(Section):
    url: str = Field(default_factory=default_database_url, min_length=1)
    auto_upgrade: bool = True


class ServerSettings(Section):
    host: str = Field(default="127.0.0.1", min_length=1)
    port: int = Field(default=8000, ge=1, le=65535)
    sync_in_background: bool = True
    openlineage_source: str = Field(default="openlineage", min_length=1, max_length=200)
    # Web pages on these origins may call the API from a browser (CORS); none by default.
    cors_origins: tuple[str, ...] = ()


class AuthSettings(Section):
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


class LimitSettings(Section):
    """``[limits]``: what one request may cost, so that no client starves the others."""

    # A query's estimated cost (lists count as many as their `first`, lineage as its
    # `maxNodes`) before it runs: the named operations cost 75,000 at most at 500 a page.
    max_query_cost: int = Field(default=200_000, ge=1)
    query_timeout: Duration = timedelta(seconds=30)  # wall-clock budget of one GraphQL request
    max_body_bytes: int = Field(default=1_000_000, ge=1024)  # a GraphQL request's body
    max_document_bytes: int = Field(default=100_000, ge=100)  # comments and whitespace count
    max_concurrent_queries: int = Field(default=4, ge=1, le=256)  # executing at once
    max_queued_queries: int = Field(default=64, ge=0)  # waiting; beyond: 503 + Retry-After
    cache_bytes: int = Field(default=64 * 1024 * 1024, ge=0)  # response cache; 0: none
    cache_entry_bytes: int = Field(default=1024 * 1024, ge=0)  # larger answers aren't cached


class SyncSettings(Section):
    default_interval: Duration = timedelta(minutes=15)
    concurrency: int = Field(default=4, ge=1, le=64)
    lease_ttl: Duration = timedelta(minutes=10)
    # How long one sync of one source may take, whatever its source does (a server that
    # answers a byte at a time never trips a per-request timeout). Batches committed by then
    # stay; the next sync resumes after them.
    deadline: Duration = timedelta(minutes=30)
    # Pushed syncs of one source start at least this far apart: a burst of pushes is one sync
    # now and one follow-up, not a sync per push.
    push_min_gap: Duration = timedelta(seconds=1)


class IdentityRuleSettings(Section):
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


class IdentitySettings(Section):
    """``[identity]``: how asset references of every source become one identity."""

    rules: tuple[IdentityRuleSettings, ...] = ()
    aliases: dict[str, str] = Field(default_factory=dict)  # a spelling → the identity it is

    def compile(self) -> IdentityRules:
        return IdentityRules(
            rules=tuple(r.compile(i) for i, r in enumerate(self.rules, start=1)),
            aliases={canonical(k): canonical(v) for k, v in self.aliases.items()},
        )
