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

from dataclasses import replace
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from catalog.enums import NodeKind
from catalog.records import (
    AssetEventRecord,
    AssetRecord,
    Batch,
    CheckResultRecord,
    ColumnLineageRecord,
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


def canonical_batch(batch: Batch) -> Batch:
    """``batch`` with every asset reference in its canonical spelling.

    An asset whose spelling changed keeps the source's own as its alias, unless the source
    named it otherwise already; a batch already canonical is returned as it is.
    """
    assets = tuple(_asset(a) for a in batch.assets)
    events = tuple(_replace_uri(e, "asset_uri") for e in batch.asset_events)
    checks = tuple(_replace_uri(c, "asset_uri") for c in batch.check_results)
    columns = tuple(
        _replace_uri(_replace_uri(c, "output_uri"), "input_uri") for c in batch.column_lineage
    )
    edges = tuple(
        replace(e, upstream=_node(e.upstream), downstream=_node(e.downstream))
        if _node(e.upstream) != e.upstream or _node(e.downstream) != e.downstream
        else e
        for e in batch.edges
    )
    return replace(
        batch,
        assets=assets,
        asset_events=events,
        check_results=checks,
        column_lineage=columns,
        edges=edges,
    )


def _asset(a: AssetRecord) -> AssetRecord:
    uri = canonical(a.uri)
    if uri == a.uri:
        return a
    return replace(a, uri=uri, alias=a.alias or a.uri)


_R = TypeVar("_R", AssetEventRecord, CheckResultRecord, ColumnLineageRecord)


def _replace_uri(record: _R, field: str) -> _R:
    value: str = getattr(record, field)
    uri = canonical(value)
    if uri == value:
        return record
    changes: dict[str, Any] = {field: uri}
    return replace(record, **changes)


def _node(node: NodeRef) -> NodeRef:
    if node.kind is not NodeKind.ASSET:
        return node
    uri = canonical(node.ref)
    return node if uri == node.ref else replace(node, ref=uri)
