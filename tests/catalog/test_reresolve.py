"""What re-resolving assets under new identity rules plans, reference by reference."""

from __future__ import annotations

import re

from catalog.identity import NO_RULES, IdentityRules, Rule, fingerprint
from catalog.reresolve import AliasRow, is_spelling, plan

LAKE = Rule("lake", prefix="s3://old-lake/", replace="s3://lake/")
RULES = IdentityRules(rules=(LAKE,))
AIRFLOW, DAGSTER, PREFECT = 1, 2, 3


def test_an_asset_a_rule_now_renames_into_another_is_merged_into_it() -> None:
    uris = {1: "s3://old-lake/orders", 2: "s3://lake/orders"}
    p = plan(RULES, uris, [], [(1, AIRFLOW), (2, DAGSTER)])
    assert p.targets == {(1, AIRFLOW): "s3://lake/orders"}
    assert p.primary == {1: "s3://lake/orders"}
    assert p.merges() == {"s3://lake/orders": ["s3://lake/orders", "s3://old-lake/orders"]}
    assert p.renames() == {}
    assert p.splits() == {}
    # The old spelling stays, as the source's alias, with the rule as its reason.
    assert p.aliases == {(AIRFLOW, "s3://old-lake/orders"): ("s3://lake/orders", "rule lake")}
    assert p.needed() == {"s3://lake/orders"}


def test_an_asset_alone_under_its_new_identity_is_renamed() -> None:
    p = plan(RULES, {1: "s3://old-lake/orders"}, [], [(1, AIRFLOW)])
    assert p.renames() == {"s3://old-lake/orders": "s3://lake/orders"}
    assert p.merges() == {}


def test_a_source_own_name_follows_the_source_and_keeps_its_reason() -> None:
    own = AliasRow(1, DAGSTER, "old-lake/orders", "asset rule old-lake → s3://old-lake")
    p = plan(RULES, {1: "s3://old-lake/orders"}, [own], [])
    assert p.aliases == {
        (DAGSTER, "old-lake/orders"): ("s3://lake/orders", own.reason),
        (DAGSTER, "s3://old-lake/orders"): ("s3://lake/orders", "rule lake"),
    }


def test_a_rule_removed_splits_the_sources_by_the_spellings_they_kept() -> None:
    # Under the rule, Airflow's s3://old-lake/orders and Dagster's s3://lake/orders were one.
    uris = {1: "s3://lake/orders"}
    spelled = AliasRow(1, AIRFLOW, "s3://old-lake/orders", "rule lake")
    p = plan(NO_RULES, uris, [spelled], [(1, AIRFLOW), (1, DAGSTER)])
    assert p.targets == {(1, AIRFLOW): "s3://old-lake/orders"}
    assert p.primary == {}  # Dagster named it as it is: the asset's own data stays there
    assert p.splits() == {"s3://lake/orders": ["s3://lake/orders", "s3://old-lake/orders"]}
    assert p.aliases == {}  # no spelling differs from its identity any more


def test_an_asset_only_a_respelled_source_knows_moves_whole_with_its_data() -> None:
    spelled = AliasRow(1, AIRFLOW, "s3://old-lake/orders", "rule lake")
    p = plan(NO_RULES, {1: "s3://lake/orders"}, [spelled], [(1, AIRFLOW)])
    assert p.primary == {1: "s3://old-lake/orders"}
    assert p.renames() == {"s3://lake/orders": "s3://old-lake/orders"}


def test_a_source_whose_spellings_now_part_is_named_as_ambiguous() -> None:
    rules = IdentityRules(
        rules=(Rule("any", pattern=re.compile(r"s3://(a|b)/x"), uri="s3://ab/x"),)
    )
    spellings = [AliasRow(1, AIRFLOW, f"s3://{b}/x", "rule any") for b in "ab"]
    p = plan(NO_RULES, {1: "s3://ab/x"}, spellings, [(1, AIRFLOW)])
    assert p.ambiguous == [("s3://ab/x", AIRFLOW)]
    assert plan(rules, {1: "s3://ab/x"}, spellings, [(1, AIRFLOW)]).empty()


def test_a_catalog_already_under_its_rules_plans_nothing() -> None:
    uris = {1: "s3://lake/orders", 2: "postgres://db:5432/shop.public.orders"}
    aliases = [
        AliasRow(1, AIRFLOW, "s3://old-lake/orders", "rule lake"),
        AliasRow(2, PREFECT, "postgresql://DB/shop.public.orders", "canonical spelling"),
        AliasRow(1, DAGSTER, "lake/orders", None),
    ]
    p = plan(RULES, uris, aliases, [(1, AIRFLOW), (2, PREFECT), (1, DAGSTER)])
    assert p.empty()
    assert {(s, a): v for (s, a), v in p.aliases.items()} == {
        (a.source_id, a.alias): (uris[a.asset_id], a.reason) for a in aliases
    }


def test_spellings_are_told_from_a_source_own_names_by_their_reason() -> None:
    assert all(is_spelling(r) for r in ("canonical spelling", "alias", "rule x"))
    assert not any(is_spelling(r) for r in (None, "asset rule lake → s3://lake"))


def test_the_fingerprint_changes_with_every_rule_and_alias_and_only_with_them() -> None:
    base = fingerprint(RULES)
    assert base == fingerprint(IdentityRules(rules=(LAKE,)))
    renamed = Rule("lake2", prefix=LAKE.prefix, replace=LAKE.replace)  # reasons name the rule
    others = [
        NO_RULES,
        IdentityRules(rules=(renamed,)),
        IdentityRules(rules=(LAKE,), aliases={"s3://a/x": "s3://b/x"}),
        IdentityRules(rules=(Rule("lake", prefix="s3://old-lake/", replace="s3://lake2/"),)),
    ]
    assert len({base, *(fingerprint(r) for r in others)}) == len(others) + 1
