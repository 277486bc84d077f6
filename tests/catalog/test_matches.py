"""Likely matches: one table name under two identities, for a person to confirm."""

from __future__ import annotations

import pytest

from catalog.matches import MAX_GROUP, Match, likely_matches, table_name


@pytest.mark.parametrize(
    ("uri", "name"),
    [
        ("postgres://db:5432/shop.public.Orders", "orders"),
        ("s3://lake/raw/orders", "orders"),
        ("s3://lake/raw/orders/", "orders"),
        ("s3://lake/exports/orders.parquet", "orders"),
        ("file:///data/Orders.CSV", "orders"),
        ("dagster://host:3000/warehouse/orders", "orders"),
        ("orders", "orders"),
        ("s3://lake/", ""),  # a bucket itself has no table name: never matched
    ],
)
def test_the_table_name_is_the_last_part_of_the_name(uri: str, name: str) -> None:
    assert table_name(uri) == name


def test_one_name_in_two_namespaces_is_a_likely_match() -> None:
    assets = [
        (1, "s3://lake/raw/orders"),
        (2, "postgres://db:5432/shop.public.orders"),
        (3, "s3://lake/clean/orders"),  # the lake's other orders: same namespace as 1
        (4, "postgres://db:5432/shop.public.customers"),
    ]
    assert likely_matches(assets, set()) == [Match(1, 2, "orders"), Match(2, 3, "orders")]


def test_linked_pairs_are_not_shown_again() -> None:
    assets = [(1, "s3://lake/raw/orders"), (2, "postgres://db:5432/shop.public.orders")]
    assert likely_matches(assets, {(1, 2)}) == []


def test_a_name_too_many_assets_share_says_nothing() -> None:
    assets = [(i, f"s3://bucket{i}/data") for i in range(MAX_GROUP + 1)]
    assert likely_matches(assets, set()) == []
    assert len(likely_matches(assets[:3], set())) == 3
