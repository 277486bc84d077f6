"""Assets linked by hand: one dataset under two identities, crossed by lineage, undone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from catalog.enums import NodeKind
from catalog.errors import InvalidArgument
from catalog.filters import Direction
from catalog.matches import MAX_GROUP, Match
from catalog.pagination import PageRequest
from catalog.records import Batch, EdgeRecord, NodeRef
from catalog.service import Catalog
from catalog.store import tables as t
from catalog.store.store import Store
from catalog.store.versions import DATA_VERSION, LINEAGE_VERSION

NOW = datetime(2026, 11, 24, 15, tzinfo=UTC)
# Airflow writes the table under its own asset URI style; dbt reads it by OpenLineage's.
AIRFLOW_STYLE = "postgres://db:5432/shop/public/orders"
OPENLINEAGE_STYLE = "postgres://db:5432/shop.public.orders"
REPORT = "s3://reports/orders_daily"


@pytest.fixture
def catalog(store: Store) -> Catalog:
    airflow = store.ensure_source("airflow", "airflow")
    dbt = store.ensure_source("dbt", "openlineage")
    writes = EdgeRecord(NodeRef.of_task("load_orders", "load"), NodeRef.asset(AIRFLOW_STYLE))
    reads = EdgeRecord(NodeRef.asset(OPENLINEAGE_STYLE), NodeRef.asset(REPORT))
    store.write_batch(airflow, Batch(cursor={}, edges=(writes,)))
    store.write_batch(dbt, Batch(cursor={}, edges=(reads,)))
    return Catalog(store, clock=lambda: NOW)


def asset_id(catalog: Catalog, uri: str) -> int:
    found = catalog.asset(uri)
    assert found is not None
    assert found.id is not None
    return found.id


def downstream(catalog: Catalog, uri: str, as_of: datetime | None = None) -> set[str]:
    start = (NodeKind.ASSET.value, asset_id(catalog, uri))
    result = catalog.lineage(start, Direction.DOWNSTREAM, 5, as_of)
    ids = [n.id for n in result.nodes if n.kind is NodeKind.ASSET]
    return {a.uri for a in catalog.by_ids(t.Asset, ids) if a is not None}


def test_a_link_lets_lineage_cross_between_the_two_identities(catalog: Catalog) -> None:
    assert downstream(catalog, AIRFLOW_STYLE) == {AIRFLOW_STYLE}
    before = catalog.store.version(LINEAGE_VERSION), catalog.store.version(DATA_VERSION)
    link, side = catalog.link_assets(
        AIRFLOW_STYLE, OPENLINEAGE_STYLE, by="token:ann", note="same table"
    )
    assert side == asset_id(catalog, AIRFLOW_STYLE)
    assert (link.reason, link.linked_by, link.linked_at, link.note) == (
        "manual",
        "token:ann",
        NOW,
        "same table",
    )
    after = catalog.store.version(LINEAGE_VERSION), catalog.store.version(DATA_VERSION)
    assert after == (before[0] + 1, before[1] + 1)  # caches of graph and answers move on
    assert downstream(catalog, AIRFLOW_STYLE) == {AIRFLOW_STYLE, OPENLINEAGE_STYLE, REPORT}
    # Both ways: upstream of the report reaches the task that wrote the Airflow-style asset.
    start = (NodeKind.ASSET.value, asset_id(catalog, REPORT))
    up = catalog.lineage(start, Direction.UPSTREAM, 5)
    assert {n.kind for n in up.nodes} == {NodeKind.ASSET, NodeKind.TASK}
    linked = [e for e in up.edges if e.origins == ("linked",)]
    # No source reported the link: who made it is its provenance.
    assert [(e.sources, e.linked_by) for e in linked] == [((), ("token:ann",))] * 2  # both ways
    # The graph as it stood before the link was made does not cross.
    assert downstream(catalog, AIRFLOW_STYLE, NOW - timedelta(seconds=1)) == {AIRFLOW_STYLE}


def test_both_ends_see_the_link_and_linking_again_replaces_who_and_why(catalog: Catalog) -> None:
    catalog.link_assets(AIRFLOW_STYLE, OPENLINEAGE_STYLE, by="token:ann")
    catalog.link_assets(OPENLINEAGE_STYLE, AIRFLOW_STYLE, by="token:bob", note="checked the DDL")
    a, b = asset_id(catalog, AIRFLOW_STYLE), asset_id(catalog, OPENLINEAGE_STYLE)
    links_a, links_b = catalog.links_of_assets([a, b])
    assert len(links_a) == len(links_b) == 1
    assert links_a[0].id == links_b[0].id
    assert (links_a[0].linked_by, links_a[0].note) == ("token:bob", "checked the DDL")
    assert catalog.links_of_assets([asset_id(catalog, REPORT)]) == [[]]


def test_unlinking_undoes_it(catalog: Catalog) -> None:
    catalog.link_assets(AIRFLOW_STYLE, OPENLINEAGE_STYLE, by="token:ann")
    assert catalog.unlink_assets(OPENLINEAGE_STYLE, AIRFLOW_STYLE, by="oidc:bob") is True
    assert catalog.unlink_assets(OPENLINEAGE_STYLE, AIRFLOW_STYLE, by="oidc:bob") is False
    assert downstream(catalog, AIRFLOW_STYLE) == {AIRFLOW_STYLE}


def test_every_link_and_unlink_is_in_the_audit_log_with_its_principal(catalog: Catalog) -> None:
    catalog.link_assets(AIRFLOW_STYLE, OPENLINEAGE_STYLE, by="token:ann", note="same DDL")
    catalog.unlink_assets(OPENLINEAGE_STYLE, AIRFLOW_STYLE, by="oidc:bob")
    catalog.unlink_assets(OPENLINEAGE_STYLE, AIRFLOW_STYLE, by="oidc:bob")  # nothing to undo
    low, high = sorted((asset_id(catalog, AIRFLOW_STYLE), asset_id(catalog, OPENLINEAGE_STYLE)))
    rows = catalog.audit_log(PageRequest(10)).items
    assert [(r.principal, r.action, r.target, r.at) for r in rows] == [
        ("oidc:bob", "asset.unlink", f"{low}-{high}", NOW),
        ("token:ann", "asset.link", f"{low}-{high}", NOW),
    ]
    assert rows[1].detail == {"assets": [low, high], "note": "same DDL"}
    assert catalog.count_audit_log(principal="token:ann") == 1
    assert catalog.count_audit_log(action="asset.unlink") == 1
    [only] = catalog.audit_log(PageRequest(1), action="asset.link").items
    assert only.principal == "token:ann"
    page = catalog.audit_log(PageRequest(1))
    assert catalog.audit_log(PageRequest(5, page.end_cursor)).items[0].action == "asset.link"


@pytest.mark.parametrize(
    ("uri", "other", "argument", "problem"),
    [
        (AIRFLOW_STYLE, "s3://nowhere/x", "other", "no asset 's3://nowhere/x'"),
        ("s3://nowhere/x", AIRFLOW_STYLE, "uri", "no asset 's3://nowhere/x'"),
        # One asset under two spellings is already one: nothing to link.
        (OPENLINEAGE_STYLE, "POSTGRESQL://DB/shop.public.orders", "other", "same asset"),
    ],
)
def test_a_link_that_cannot_be_made_names_the_argument(
    catalog: Catalog, uri: str, other: str, argument: str, problem: str
) -> None:
    with pytest.raises(InvalidArgument, match=problem) as caught:
        catalog.link_assets(uri, other, by="token:ann")
    assert caught.value.argument == argument
    assert catalog.count_audit_log() == 0  # nothing half-written


def test_likely_matches_leave_out_linked_pairs(catalog: Catalog) -> None:
    found = catalog.likely_matches(50)
    pairs = {(m.asset_id, m.other_id, m.name) for m in found}
    a, b = sorted((asset_id(catalog, AIRFLOW_STYLE), asset_id(catalog, OPENLINEAGE_STYLE)))
    # Same host and scheme: one namespace, so not a likely match by name alone.
    assert (a, b, "orders") not in pairs
    with pytest.raises(InvalidArgument, match="first"):
        catalog.likely_matches(10_000)


def test_likely_matches_of_one_asset_are_the_pairs_it_is_in(store: Store) -> None:
    lake = store.ensure_source("lake", "openlineage")
    uris = [
        "s3://lake/raw/raw_orders",
        "postgres://wh:5432/shop.public.RAW_ORDERS",
        "file:///exports/raw_orders.csv",
        "s3://lake/raw/rawXorders",  # `_` is no wildcard: another name
        "postgres://wh:5432/shop.public.customers",
        "s3://lake/raw/customers",
    ]
    records = tuple(EdgeRecord(NodeRef.asset(u), NodeRef.asset("s3://reports/r")) for u in uris)
    store.write_batch(lake, Batch(cursor={}, edges=records))
    catalog = Catalog(store, clock=lambda: NOW)
    everything = catalog.likely_matches(500)
    first = asset_id(catalog, uris[0])
    mine = catalog.likely_matches(500, asset=uris[0])
    assert mine == [m for m in everything if first in (m.asset_id, m.other_id)]

    def others(found: list[Match]) -> set[tuple[str, int]]:
        assert all(first in (m.asset_id, m.other_id) for m in found)
        return {(m.name, m.asset_id + m.other_id - first) for m in found}

    assert others(mine) == {
        ("raw_orders", asset_id(catalog, uris[1])),
        ("raw_orders", asset_id(catalog, uris[2])),
    }
    assert catalog.likely_matches(1, asset=uris[0]) == mine[:1]

    catalog.link_assets(uris[0], uris[1], by="test")
    assert others(catalog.likely_matches(500, asset=uris[0])) == {
        ("raw_orders", asset_id(catalog, uris[2]))
    }
    assert catalog.likely_matches(500, asset="s3://reports/r") == []
    assert catalog.likely_matches(50, asset="s3://nope") == []


def test_a_name_too_many_assets_share_is_no_match_of_one_asset_either(store: Store) -> None:
    lake = store.ensure_source("lake", "openlineage")
    uris = [f"s3://bucket{i}/data" for i in range(MAX_GROUP + 1)]
    records = tuple(EdgeRecord(NodeRef.asset(u), NodeRef.asset("s3://reports/r")) for u in uris)
    store.write_batch(lake, Batch(cursor={}, edges=records))
    catalog = Catalog(store, clock=lambda: NOW)
    assert catalog.likely_matches(500, asset=uris[0]) == []
