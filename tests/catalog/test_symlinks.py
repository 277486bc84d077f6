"""References by a symlink's name resolve to the asset the source declared it of."""

from __future__ import annotations

from datetime import UTC, datetime

from catalog.enums import AssetEventKind, EdgeOrigin
from catalog.identity import SYMLINK
from catalog.records import (
    AssetEventRecord,
    AssetRecord,
    Batch,
    CheckResultRecord,
    ColumnLineageRecord,
    EdgeRecord,
    NodeRef,
)
from catalog.symlinks import referenced, resolve_symlinks

AT = datetime(2024, 5, 1, tzinfo=UTC)
TABLE, PATH = "hive://metastore/db.orders", "s3://warehouse/db.db/orders"


def _reader(uri: str) -> Batch:
    return Batch(
        cursor={},
        assets=(AssetRecord(uri),),
        asset_events=(AssetEventRecord(uri, AssetEventKind.CONSUMED, AT, run_id="r"),),
        check_results=(CheckResultRecord(uri, "not_null", False, AT),),
        edges=(EdgeRecord(NodeRef.asset(uri), NodeRef.pipeline("ns:reader"), EdgeOrigin.OBSERVED),),
        column_lineage=(ColumnLineageRecord("s3://out", "a", uri, "b"),),
    )


def test_a_stored_symlink_resolves_every_reference() -> None:
    got = resolve_symlinks(_reader(TABLE), {TABLE: PATH})
    assert referenced(got) == {PATH, "s3://out"}
    assert got.assets == (AssetRecord(PATH, alias=TABLE, alias_reason=SYMLINK),)
    assert got.edges[0].upstream == NodeRef.asset(PATH)


def test_a_symlink_declared_in_the_batch_resolves_the_batch() -> None:
    b = _reader(TABLE)
    declared = Batch(
        cursor={},
        assets=(AssetRecord(PATH), AssetRecord(PATH, alias=TABLE, alias_reason=SYMLINK)),
    )
    merged = Batch(
        cursor={},
        assets=declared.assets + b.assets,
        asset_events=b.asset_events,
        check_results=b.check_results,
        edges=b.edges,
        column_lineage=b.column_lineage,
    )
    got = resolve_symlinks(merged, {})
    assert {e.asset_uri for e in got.asset_events} == {PATH}
    assert {c.asset_uri for c in got.check_results} == {PATH}


def test_other_aliases_and_cycles_resolve_nothing() -> None:
    b = _reader(TABLE)
    assert resolve_symlinks(b, {}) is b
    # Each the other's symlink: neither is the asset, so nothing moves.
    cycle = Batch(
        cursor={},
        assets=(
            AssetRecord(PATH, alias=TABLE, alias_reason=SYMLINK),
            AssetRecord(TABLE, alias=PATH, alias_reason=SYMLINK),
        ),
    )
    assert resolve_symlinks(cycle, {}) is cycle
    renamed = Batch(cursor={}, assets=(AssetRecord(PATH, alias=TABLE, alias_reason="rule r"),))
    assert resolve_symlinks(renamed, {}) is renamed
