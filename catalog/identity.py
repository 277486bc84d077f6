"""Canonical asset identity: OpenLineage dataset naming (namespace + name, written as a URI),
with the spellings the naming spec treats as equal made one.

Every asset URI a source reports passes through :func:`canonical` before it is stored, so
``postgresql://DB.internal/shop.public.orders`` from one tool and
``postgres://db.internal:5432/shop.public.orders`` from another are the same asset:

- scheme aliases: ``postgresql`` → ``postgres``, ``s3a``/``s3n`` → ``s3``, ``gcs`` → ``gs``,
  ``mariadb`` → ``mysql``, ``sqlserver`` → ``mssql``;
- default ports made explicit, as the naming spec writes namespaces (``postgres://host:5432``);
- host names in lower case (DNS does not tell case apart);
- names in lower case where the system folds unquoted identifiers to it (PostgreSQL, Redshift),
  upper case for Snowflake;
- no trailing slash on a path.

A reference that is not a URI (no ``scheme://``) is kept as it is.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from catalog.enums import NodeKind
from catalog.records import (
    AssetEventRecord,
    AssetRecord,
    Batch,
    CheckResultRecord,
    ColumnLineageRecord,
    EdgeRecord,
    NodeRef,
)

SCHEME_ALIASES = {
    "postgresql": "postgres",
    "s3a": "s3",
    "s3n": "s3",
    "gcs": "gs",
    "mariadb": "mysql",
    "sqlserver": "mssql",
}
DEFAULT_PORTS = {
    "postgres": 5432,
    "mysql": 3306,
    "redshift": 5439,
    "mssql": 1433,
    "oracle": 1521,
    "trino": 8080,
    "clickhouse": 8123,
}
LOWER_CASE_NAMES = frozenset({"postgres", "redshift"})
UPPER_CASE_NAMES = frozenset({"snowflake"})


@lru_cache(maxsize=65_536)  # sources name the same few assets over and over
def canonical(uri: str) -> str:
    """The one spelling of ``uri`` that every source's spelling of the same dataset maps to."""
    if "://" not in uri:
        return uri
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:  # a port that is no number: not a URL this module can reason about
        return uri
    scheme = SCHEME_ALIASES.get(parts.scheme.lower(), parts.scheme.lower())
    host = (parts.hostname or "").lower()
    netloc = host
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    if port is None:
        port = DEFAULT_PORTS.get(scheme)
    if port is not None and host:
        netloc = f"{netloc}:{port}"
    path = parts.path
    if len(path) > 1:
        path = path.rstrip("/") or "/"
    if scheme in LOWER_CASE_NAMES:
        path = path.lower()
    elif scheme in UPPER_CASE_NAMES:
        path = path.upper()
    return urlunsplit((scheme, netloc, path, parts.query, parts.fragment))


def canonical_batch(batch: Batch, rules: IdentityRules | None = None) -> Batch:
    """``batch`` with every asset reference resolved to the catalog's identity.

    A source's spelling that differs from the identity is kept as its alias, with the reason
    (canonical spelling, which rule, an explicit alias); a reference met only in an event or an
    edge gets an asset record of its own for that. A batch already canonical is returned as is.
    """
    resolver = _Resolver(rules or NO_RULES)
    assets = [resolver.asset(a) for a in batch.assets]
    events = tuple(resolver.field(e, "asset_uri") for e in batch.asset_events)
    checks = tuple(resolver.field(c, "asset_uri") for c in batch.check_results)
    columns = tuple(
        resolver.field(resolver.field(c, "output_uri"), "input_uri") for c in batch.column_lineage
    )
    edges = tuple(resolver.edge(e) for e in batch.edges)
    assets += resolver.renamed()
    if not resolver.changed:
        return batch
    return replace(
        batch,
        assets=tuple(_unique(assets)),
        asset_events=events,
        check_results=checks,
        column_lineage=columns,
        edges=edges,
    )


_R = TypeVar("_R", AssetEventRecord, CheckResultRecord, ColumnLineageRecord)


class _Resolver:
    def __init__(self, rules: IdentityRules) -> None:
        self.rules = rules
        self.changed = False
        self._renamed: dict[str, tuple[str, str]] = {}  # spelling → (identity, reason)
        # A batch names few assets many times (every event, check and edge): resolve each once.
        self._resolved: dict[str, tuple[str, str | None]] = {}

    def resolve(self, spelling: str) -> tuple[str, str | None]:
        found = self._resolved.get(spelling)
        if found is None:
            found = self._resolved[spelling] = self.rules.resolve(spelling)
        return found

    def uri(self, spelling: str) -> str:
        identity, reason = self.resolve(spelling)
        if reason is not None:
            self.changed = True
            self._renamed.setdefault(spelling, (identity, reason))
        return identity

    def asset(self, a: AssetRecord) -> AssetRecord:
        identity, reason = self.resolve(a.uri)
        if reason is None:
            return a
        self.changed = True
        if a.alias:  # the source's own name for it stays its alias; the spelling is kept too
            self._renamed.setdefault(a.uri, (identity, reason))
            return replace(a, uri=identity)
        return replace(a, uri=identity, alias=a.uri, alias_reason=reason)

    def field(self, record: _R, name: str) -> _R:
        value: str = getattr(record, name)
        identity = self.uri(value)
        if identity == value:
            return record
        changes: dict[str, Any] = {name: identity}
        return replace(record, **changes)

    def edge(self, e: EdgeRecord) -> EdgeRecord:
        up, down = self._node(e.upstream), self._node(e.downstream)
        return (
            e
            if (up, down) == (e.upstream, e.downstream)
            else replace(e, upstream=up, downstream=down)
        )

    def _node(self, node: NodeRef) -> NodeRef:
        if node.kind is not NodeKind.ASSET:
            return node
        identity = self.uri(node.ref)
        return node if identity == node.ref else replace(node, ref=identity)

    def renamed(self) -> list[AssetRecord]:
        return [
            AssetRecord(identity, alias=spelling, alias_reason=reason)
            for spelling, (identity, reason) in self._renamed.items()
        ]


def _unique(assets: list[AssetRecord]) -> list[AssetRecord]:
    """One record per (identity, alias): a spelling met twice is recorded once."""
    seen: set[tuple[str, str | None]] = set()
    out = []
    for a in assets:
        key = (a.uri, a.alias)
        if key not in seen:
            seen.add(key)
            out.append(a)
    return out


# -- rules from the configuration ---------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """``[[identity.rules]]``: a prefix swapped for another, or a pattern rewritten."""

    name: str
    prefix: str | None = None
    replace: str | None = None
    pattern: re.Pattern[str] | None = None
    uri: str | None = None  # a template naming the pattern's groups: "{db}.{table}"

    def apply(self, uri: str) -> str | None:
        if self.prefix is not None and self.replace is not None:
            return self.replace + uri[len(self.prefix) :] if uri.startswith(self.prefix) else None
        if self.pattern is not None and self.uri is not None:
            found = self.pattern.fullmatch(uri)
            return self.uri.format(*found.groups(), **found.groupdict()) if found else None
        return None


@dataclass(frozen=True)
class IdentityRules:
    """How a source's asset reference becomes the catalog's identity, and why.

    The reference is first spelled canonically (:func:`canonical`); then the first rule that
    matches rewrites it, or an explicit alias maps it; the result is spelled canonically again.
    """

    rules: tuple[Rule, ...] = ()
    aliases: Mapping[str, str] = field(default_factory=dict)  # canonical spelling → identity

    def resolve(self, uri: str) -> tuple[str, str | None]:
        """The identity of ``uri`` and why it differs (None: it is the identity as written)."""
        out = canonical(uri)
        reason = "canonical spelling" if out != uri else None
        for rule in self.rules:
            rewritten = rule.apply(out)
            if rewritten is not None:
                out, reason = canonical(rewritten), f"rule {rule.name}"
                break
        else:
            if out in self.aliases:
                out, reason = self.aliases[out], "alias"
        return out, reason


NO_RULES = IdentityRules()


SAME_IDENTITY = "same canonical identity"
# An alias a source declares as another name of the same dataset (an OpenLineage symlink: the
# table over a path): a reference by that name, from this source, is the asset itself.
SYMLINK = "symlink"
OWN_NAME = "the source's own name for it"


@dataclass(frozen=True, slots=True)
class NamedBy:
    """What one source calls an asset, and why that name is this asset."""

    source_id: int
    name: str
    reason: str


def named_by(
    uri: str, source_ids: list[int], aliases: list[tuple[int, str, str | None]]
) -> list[NamedBy]:
    """Each source that knows the asset ``uri``: by its aliases ``(source id, alias, reason)``,
    or, a source that has none, by ``uri`` itself, the same canonical identity."""
    by_source: dict[int, list[NamedBy]] = {}
    for source_id, alias, reason in aliases:
        why = reason or (SAME_IDENTITY if alias == uri else OWN_NAME)
        by_source.setdefault(source_id, []).append(NamedBy(source_id, alias, why))
    for source_id in source_ids:
        by_source.setdefault(source_id, [NamedBy(source_id, uri, SAME_IDENTITY)])
    return [
        n
        for source_id in sorted(by_source)
        for n in sorted(by_source[source_id], key=lambda n: n.name)
    ]


# Bumped when :func:`canonical` or :meth:`IdentityRules.resolve` changes what they answer, so
# that catalogs written before re-resolve their assets at the next start.
RESOLUTION_VERSION = 1


def fingerprint(rules: IdentityRules) -> str:
    """A digest of everything that decides an identity: a catalog whose stored fingerprint
    differs was written under other rules."""
    described = {
        "version": RESOLUTION_VERSION,
        "rules": [
            [r.name, r.prefix, r.replace, r.pattern.pattern if r.pattern else None, r.uri]
            for r in rules.rules
        ],
        "aliases": sorted(rules.aliases.items()),
    }
    text = json.dumps(described, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
