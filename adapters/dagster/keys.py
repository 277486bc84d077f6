"""Dagster asset keys → canonical asset identities (OpenLineage namespace + name, as a URI).

A Dagster key is a path (``["lake", "raw", "orders"]``). Rules in the source's config map key
prefixes onto the namespaces other tools use, so a Dagster asset and, say, the Airflow asset
that writes the same table are one asset:

    [[sources.dagster.asset_rules]]
    prefix = ["lake"]            # keys starting with "lake" …
    namespace = "s3://lake"      # … are objects of this bucket:
                                 # lake/raw/orders → s3://lake/raw/orders

The rest of the key after the prefix is the name, its parts joined by ``separator`` ("/" by
default; "." for tables: ``namespace = "postgres://db:5432"``, ``separator = "."``). The first
rule whose prefix matches wins; an empty prefix matches every key. A key no rule matches is
``dagster://<host:port of the Dagster URL>/<key parts joined by "/">`` — stable for one Dagster
deployment, whoever syncs it.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from catalog.secrets import strip_userinfo


class AssetRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    prefix: tuple[str, ...] = ()
    namespace: str = Field(min_length=1)
    separator: str = Field(default="/", min_length=1)

    @field_validator("namespace")
    @classmethod
    def _a_uri(cls, value: str) -> str:
        if "://" not in value:
            raise ValueError(f"{value!r} is not a namespace URI such as 's3://bucket'")
        return value.rstrip("/")

    def matches(self, path: Sequence[str]) -> bool:
        return tuple(path[: len(self.prefix)]) == self.prefix and len(path) > len(self.prefix)


class AssetKeys:
    """Maps key paths through ``rules``, falling back to the documented default."""

    def __init__(self, rules: Sequence[AssetRule], dagster_url: str) -> None:
        self.rules = tuple(rules)
        # The server's host, never its user-info: the namespace is part of asset identities.
        self.default_namespace = f"dagster://{urlsplit(strip_userinfo(dagster_url)).netloc}"

    def uri(self, path: Sequence[str]) -> str:
        for rule in self.rules:
            if rule.matches(path):
                rest = path[len(rule.prefix) :]
                return f"{rule.namespace}/{rule.separator.join(rest)}"
        return f"{self.default_namespace}/{'/'.join(quote(p, safe='') for p in path)}"

    def reason(self, path: Sequence[str]) -> str | None:
        """Why ``path`` has the identity :meth:`uri` gives it: the rule that matched, if any."""
        for rule in self.rules:
            if rule.matches(path):
                prefix = "/".join(rule.prefix) or "every key"
                return f"asset rule {prefix} → {rule.namespace}"
        return None


def alias(path: Sequence[str]) -> str:
    """Dagster's own spelling of a key, as its UI shows it."""
    return "/".join(path)
