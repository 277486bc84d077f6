"""Canonical asset identity: the spellings OpenLineage's naming treats as equal become one."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from catalog.config import parse_settings
from catalog.enums import AssetEventKind
from catalog.errors import ConfigError
from catalog.identity import NamedBy, canonical, canonical_batch, named_by
from catalog.records import (
    AssetEventRecord,
    AssetRecord,
    Batch,
    CheckResultRecord,
    ColumnLineageRecord,
    EdgeRecord,
    NodeRef,
)

T = datetime(2026, 11, 24, tzinfo=UTC)


@pytest.mark.parametrize(
    ("spelling", "one"),
    [
        # scheme aliases, and the default port written out as the naming spec does
        (
            "postgresql://db.internal/shop.public.orders",
            "postgres://db.internal:5432/shop.public.orders",
        ),
        (
            "postgres://db.internal:5432/shop.public.orders",
            "postgres://db.internal:5432/shop.public.orders",
        ),
        (
            "postgres://db.internal:6543/shop.public.orders",
            "postgres://db.internal:6543/shop.public.orders",
        ),
        ("s3a://lake/raw/orders", "s3://lake/raw/orders"),
        ("s3n://lake/raw/orders", "s3://lake/raw/orders"),
        ("gcs://bucket/x", "gs://bucket/x"),
        ("mariadb://db/shop.orders", "mysql://db:3306/shop.orders"),
        ("sqlserver://db/shop.dbo.orders", "mssql://db:1433/shop.dbo.orders"),
        (
            "redshift://cluster.example.com/dev.public.t",
            "redshift://cluster.example.com:5439/dev.public.t",
        ),
        # host names do not tell case apart; case-folding systems' names neither
        ("S3://Lake/raw/Orders", "s3://lake/raw/Orders"),
        (
            "postgres://DB.internal:5432/Shop.Public.Orders",
            "postgres://db.internal:5432/shop.public.orders",
        ),
        ("snowflake://org-acct/db.schema.orders", "snowflake://org-acct/DB.SCHEMA.ORDERS"),
        # a trailing slash names the same thing
        ("s3://lake/raw/orders/", "s3://lake/raw/orders"),
        ("s3://lake/raw/orders///", "s3://lake/raw/orders"),
        ("file:///data/orders.csv", "file:///data/orders.csv"),
        ("s3://lake/", "s3://lake/"),
        # not URIs: kept as they are
        ("orders", "orders"),
        ("warehouse/orders", "warehouse/orders"),
        # a port that is no number cannot be reasoned about: kept
        ("postgres://db:abc/x", "postgres://db:abc/x"),
    ],
)
def test_spellings_of_one_dataset_become_one(spelling: str, one: str) -> None:
    assert canonical(spelling) == one
    assert canonical(one) == one  # idempotent


def test_a_batch_names_every_asset_canonically_and_keeps_the_sources_spelling() -> None:
    raw, clean = "postgresql://DB/shop.public.raw", "postgresql://DB/shop.public.clean"
    batch = Batch(
        cursor={},
        assets=(AssetRecord(raw), AssetRecord(clean, alias="clean_orders")),
        asset_events=(AssetEventRecord(clean, AssetEventKind.PRODUCED, T),),
        check_results=(CheckResultRecord(clean, "not_empty", True, T),),
        column_lineage=(ColumnLineageRecord(clean, "id", raw, "id"),),
        edges=(EdgeRecord(NodeRef.asset(raw), NodeRef.of_task("etl", "load")),),
    )
    out = canonical_batch(batch)
    r, c = "postgres://db:5432/shop.public.raw", "postgres://db:5432/shop.public.clean"
    why = "canonical spelling"
    # The source's names stay aliases, with why they differ; so does every spelling met.
    assert [(a.uri, a.alias, a.alias_reason) for a in out.assets] == [
        (r, raw, why),
        (c, "clean_orders", None),  # the source's own name for it: no reason to give
        (c, clean, why),
    ]
    assert [e.asset_uri for e in out.asset_events] == [c]
    assert [x.asset_uri for x in out.check_results] == [c]
    assert [(x.output_uri, x.input_uri) for x in out.column_lineage] == [(c, r)]
    assert [(e.upstream.ref, e.downstream) for e in out.edges] == [
        (r, NodeRef.of_task("etl", "load"))
    ]


def test_a_canonical_batch_is_left_as_it_is() -> None:
    batch = Batch(
        cursor={"n": 1},
        assets=(AssetRecord("s3://lake/raw/orders"),),
        edges=(EdgeRecord(NodeRef.pipeline("etl"), NodeRef.asset("s3://lake/raw/orders")),),
    )
    assert canonical_batch(batch) == batch


# -- rules from the configuration -----------------------------------------------------------------

RULES = parse_settings(
    {
        "identity": {
            "rules": [
                {
                    "name": "airflow-postgres",
                    "pattern": r"postgres://db:5432/(?P<db>\w+)/(?P<schema>\w+)/(?P<table>\w+)",
                    "uri": "postgres://db:5432/{db}.{schema}.{table}",
                },
                {"prefix": "s3://legacy-lake/", "replace": "s3://lake/"},
            ],
            "aliases": {"hive://metastore/default.orders": "s3://lake/raw/orders"},
        }
    },
    file="tempox.toml",
).identity.compile()


@pytest.mark.parametrize(
    ("spelling", "identity", "reason"),
    [
        (
            "postgresql://DB/shop/public/orders",
            "postgres://db:5432/shop.public.orders",
            "rule airflow-postgres",
        ),
        ("s3a://legacy-lake/raw/orders/", "s3://lake/raw/orders", "rule #2"),
        ("hive://metastore/default.orders", "s3://lake/raw/orders", "alias"),
        ("postgresql://db/shop.public.orders", "postgres://db:5432/shop.public.orders", None),
        ("s3://lake/raw/orders", "s3://lake/raw/orders", None),
    ],
)
def test_rules_and_aliases_resolve_a_spelling_and_say_why(
    spelling: str, identity: str, reason: str | None
) -> None:
    found, why = RULES.resolve(spelling)
    assert found == identity
    assert why == (reason or ("canonical spelling" if spelling != identity else None))


@pytest.mark.parametrize(
    ("rule", "problem"),
    [
        ({"prefix": "s3://a/"}, "prefix and replace go together"),
        ({"pattern": "x", "uri": "y", "prefix": "s3://"}, "give prefix and replace, or pattern"),
        ({"pattern": "(", "uri": "y"}, "is not a regular expression"),
        ({"pattern": "(?P<db>\\w+)", "uri": "x://{table}"}, "names group {table}"),
        ({}, "give prefix and replace, or pattern and uri"),
    ],
)
def test_a_rule_that_cannot_work_is_refused_naming_it(rule: dict[str, str], problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings({"identity": {"rules": [rule]}}, file="tempox.toml")
    message = str(caught.value)
    assert message.startswith("tempox.toml: identity.rules[0]: "), message
    assert problem in message


def test_named_by_gives_each_source_its_name_and_reason() -> None:
    uri = "s3://lake/raw/orders"
    aliases = [
        (2, "lake/raw/orders", "asset rule lake → s3://lake"),
        (3, uri, None),
        (4, "raw_orders", None),
        (4, "S3A://lake/raw/orders", "canonical spelling"),
    ]
    assert named_by(uri, [1, 2, 3, 4], aliases) == [
        NamedBy(1, uri, "same canonical identity"),  # wrote the identity, no alias
        NamedBy(2, "lake/raw/orders", "asset rule lake → s3://lake"),
        NamedBy(3, uri, "same canonical identity"),
        NamedBy(4, "S3A://lake/raw/orders", "canonical spelling"),
        NamedBy(4, "raw_orders", "the source's own name for it"),
    ]
    assert named_by(uri, [], []) == []
