"""Dagster asset keys → canonical asset URIs: the default rule, prefix rules, and their checks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from pydantic import ValidationError

from adapters.dagster.keys import AssetKeys, AssetRule, alias

URL = "http://dagster.example.com:3000"


def rule(**keys: Any) -> AssetRule:
    return AssetRule.model_validate(keys)


def keys(*rules: AssetRule, url: str = URL) -> AssetKeys:
    return AssetKeys(rules, url)


# -- the default rule -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "uri"),
    [
        (["orders"], "dagster://dagster.example.com:3000/orders"),
        (["lake", "raw", "orders"], "dagster://dagster.example.com:3000/lake/raw/orders"),
        # Parts are quoted one by one: a "/" inside a part is not a path separator.
        (["a/b", "c"], "dagster://dagster.example.com:3000/a%2Fb/c"),
        (["with space"], "dagster://dagster.example.com:3000/with%20space"),
        (["ümlaut"], "dagster://dagster.example.com:3000/%C3%BCmlaut"),
        (["q?x=1#y"], "dagster://dagster.example.com:3000/q%3Fx%3D1%23y"),
        (["100%"], "dagster://dagster.example.com:3000/100%25"),
        (["snake_case-and.dots~"], "dagster://dagster.example.com:3000/snake_case-and.dots~"),
    ],
)
def test_a_key_no_rule_matches_is_named_after_the_dagster_host(
    path: Sequence[str], uri: str
) -> None:
    assert keys().uri(path) == uri


@pytest.mark.parametrize(
    ("url", "namespace"),
    [
        ("http://127.0.0.1:3000", "dagster://127.0.0.1:3000"),
        ("https://acme.dagster.cloud/prod", "dagster://acme.dagster.cloud"),  # no path
        ("http://dagster", "dagster://dagster"),  # no port
    ],
)
def test_the_default_namespace_is_host_and_port(url: str, namespace: str) -> None:
    found = keys(url=url)
    assert found.default_namespace == namespace
    assert found.uri(["a", "b"]) == f"{namespace}/a/b"


def test_the_alias_is_dagster_s_own_spelling() -> None:
    assert alias(["lake", "raw", "orders"]) == "lake/raw/orders"
    assert alias(["a/b", "c d"]) == "a/b/c d"  # unquoted, as the UI shows it
    assert alias([]) == ""


# -- prefix rules ---------------------------------------------------------------------------------


def test_a_prefix_rule_maps_the_rest_of_the_key_under_its_namespace() -> None:
    lake = rule(prefix=["lake"], namespace="s3://lake")
    assert keys(lake).uri(["lake", "raw", "orders"]) == "s3://lake/raw/orders"
    assert keys(lake).uri(["lake", "orders"]) == "s3://lake/orders"
    # A key the rule does not match falls through to the default.
    assert keys(lake).uri(["warehouse", "orders"]) == (
        "dagster://dagster.example.com:3000/warehouse/orders"
    )


def test_a_longer_prefix() -> None:
    marts = rule(prefix=["warehouse", "marts"], namespace="postgres://db:5432/analytics")
    assert keys(marts).uri(["warehouse", "marts", "revenue"]) == (
        "postgres://db:5432/analytics/revenue"
    )
    # Both parts must match, in order.
    assert keys(marts).uri(["warehouse", "staging", "revenue"]).startswith("dagster://")
    assert keys(marts).uri(["marts", "warehouse", "revenue"]).startswith("dagster://")


def test_the_separator_joins_the_rest_for_tables() -> None:
    tables = rule(prefix=["warehouse"], namespace="postgres://db:5432", separator=".")
    assert keys(tables).uri(["warehouse", "public", "orders"]) == "postgres://db:5432/public.orders"
    assert keys(tables).uri(["warehouse", "orders"]) == "postgres://db:5432/orders"


def test_the_first_matching_rule_wins() -> None:
    specific = rule(prefix=["lake", "raw"], namespace="s3://raw-bucket")
    general = rule(prefix=["lake"], namespace="s3://lake")
    path = ["lake", "raw", "orders"]
    assert keys(specific, general).uri(path) == "s3://raw-bucket/orders"
    assert keys(general, specific).uri(path) == "s3://lake/raw/orders"  # never reaches specific
    # A rule that does not match is passed over for a later one that does.
    assert keys(specific, general).uri(["lake", "clean", "orders"]) == "s3://lake/clean/orders"


def test_an_empty_prefix_matches_every_key() -> None:
    everything = rule(namespace="s3://all")
    assert everything.prefix == ()
    assert keys(everything).uri(["orders"]) == "s3://all/orders"
    assert keys(everything).uri(["lake", "raw", "orders"]) == "s3://all/lake/raw/orders"
    # … so the rules after it are never reached.
    lake = rule(prefix=["lake"], namespace="s3://lake")
    assert keys(everything, lake).uri(["lake", "orders"]) == "s3://all/lake/orders"


def test_a_key_equal_to_the_prefix_alone_does_not_match() -> None:
    """Nothing would be left for the name: the key falls through to the next rule."""
    lake = rule(prefix=["lake", "raw"], namespace="s3://lake")
    assert not lake.matches(["lake", "raw"])
    assert not lake.matches(["lake"])  # shorter still
    assert lake.matches(["lake", "raw", "orders"])
    assert keys(lake).uri(["lake", "raw"]) == "dagster://dagster.example.com:3000/lake/raw"
    catch_all = rule(namespace="s3://all")
    assert keys(lake, catch_all).uri(["lake", "raw"]) == "s3://all/lake/raw"
    assert not catch_all.matches([])  # the empty key has no name either


def test_a_rule_does_not_quote_the_name() -> None:
    """The rule's namespace is another tool's: the name is written as that tool writes it."""
    lake = rule(prefix=["lake"], namespace="s3://lake")
    assert keys(lake).uri(["lake", "with space"]) == "s3://lake/with space"


def test_rules_are_kept_in_order() -> None:
    a = rule(prefix=["a"], namespace="s3://a")
    b = rule(prefix=["b"], namespace="s3://b")
    assert keys(a, b).rules == (a, b)
    assert keys(*[a, b]).rules == (a, b)


# -- what a rule accepts --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("namespace", "kept"),
    [
        ("s3://lake", "s3://lake"),
        ("s3://lake/", "s3://lake"),  # a trailing slash would double the one before the name
        ("postgres://db:5432/analytics//", "postgres://db:5432/analytics"),
        ("file:///srv/data", "file:///srv/data"),
    ],
)
def test_namespaces_lose_trailing_slashes(namespace: str, kept: str) -> None:
    assert rule(namespace=namespace).namespace == kept


@pytest.mark.parametrize("namespace", ["lake", "s3:/lake", "/srv/data", "postgres:db"])
def test_a_namespace_must_be_a_uri(namespace: str) -> None:
    with pytest.raises(ValidationError) as caught:
        rule(namespace=namespace)
    assert f"{namespace!r} is not a namespace URI such as 's3://bucket'" in str(caught.value)


@pytest.mark.parametrize(
    ("keys_", "field"),
    [
        ({}, "namespace"),  # required
        ({"namespace": ""}, "namespace"),
        ({"namespace": "s3://lake", "separator": ""}, "separator"),
        ({"namespace": "s3://lake", "prefix": "lake"}, "prefix"),  # a list, not a string
        ({"namespace": "s3://lake", "prefix": [1]}, "prefix"),
        ({"namespace": "s3://lake", "bucket": "lake"}, "bucket"),  # unknown key
    ],
)
def test_bad_rules_are_refused(keys_: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        AssetRule.model_validate(keys_)
    assert field in str(caught.value)


def test_a_prefix_from_toml_is_a_tuple() -> None:
    found = rule(prefix=["lake", "raw"], namespace="s3://lake")
    assert found.prefix == ("lake", "raw")
    assert found.separator == "/"


def test_rules_are_frozen() -> None:
    found = rule(namespace="s3://lake")
    with pytest.raises(ValidationError):
        found.namespace = "s3://other"  # type: ignore[misc]


def test_the_reason_names_the_rule_that_matched() -> None:
    found = AssetKeys(
        [AssetRule(prefix=("lake",), namespace="s3://lake"), AssetRule(namespace="gs://all")],
        "http://127.0.0.1:3000",
    )
    assert found.reason(["lake", "raw", "orders"]) == "asset rule lake → s3://lake"
    assert found.reason(["other"]) == "asset rule every key → gs://all"
    assert AssetKeys([], "http://127.0.0.1:3000").reason(["lake", "orders"]) is None
