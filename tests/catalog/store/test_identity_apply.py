"""A catalog whose ``[identity]`` rules change ends, at its next start, exactly where a fresh
sync under the new rules ends: table by table, rows compared by natural keys, not ids."""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

import catalog.store.store as store_module
from api.demo.estate import load_demo
from catalog.enums import AssetEventKind, RunStatus
from catalog.identity import NO_RULES, IdentityRules, Rule, fingerprint
from catalog.records import AssetEventRecord, Batch, EdgeRecord, NodeRef, RunRecord
from catalog.settings_sections import IdentitySettings
from catalog.store import identity_apply, identity_moves
from catalog.store import tables as t
from catalog.store.identity_apply import apply_identity, ensure_identity, read_fingerprint
from catalog.store.store import Store, open_store
from catalog.store.versions import DATA_VERSION
from tests.catalog.store.identity_estate import (
    AFTER,
    BEFORE,
    OLD_ORDERS,
    ORDERS,
    REPORT,
    T0,
    write_estate,
)
from tests.catalog.store.natural import differences, natural_snapshot
from tests.catalog.store.snapshot import snapshot
from tests.databases import BACKENDS, database_url

NOW = datetime(2027, 3, 1, 12, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[3]
# The demo's sources point at replay servers on ports of their own each time.
NOT_CONTENTS = {"source": ("base_url", "settings")}

# Rules over the demo estate (recorded from real Airflow, Prefect and Dagster servers): the
# warehouse's "analytics/public/orders" (OpenLineage) is Dagster's orders table; the raw
# orders Airflow writes and Dagster reads move to a landing zone.
DEMO_RULES = IdentitySettings.model_validate(
    {
        "rules": [
            {
                "name": "analytics",
                "pattern": r"postgres://warehouse:5432/analytics/public/(.*)",
                "uri": "postgres://warehouse:5432/{0}",
            },
            {"name": "landing", "prefix": "s3://lake/raw/", "replace": "s3://lake/landing/"},
        ]
    }
).compile()
# The Prefect report and its OpenLineage reader, made one by an explicit alias.
DEMO_ALIAS = IdentityRules(
    rules=DEMO_RULES.rules,
    aliases={"s3://lake/reports/orders_daily": "s3://reports/revenue_report"},
)


@pytest.fixture(params=BACKENDS)
def urls(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """Two empty databases on one backend: the catalog that lives on, and a fresh one."""
    (tmp_path / "live").mkdir()
    (tmp_path / "fresh").mkdir()
    with (
        database_url(request.param, tmp_path / "live") as live,
        database_url(request.param, tmp_path / "fresh") as fresh,
    ):
        yield live, fresh


@pytest.fixture(autouse=True)
def _frozen_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    # Edges without a time of their own are first seen when written: the same time for both.
    monkeypatch.setattr(store_module, "utcnow", lambda: NOW)


def assert_same(live: Store, fresh: Store) -> None:
    assert (
        differences(
            natural_snapshot(live, ignore=NOT_CONTENTS),
            natural_snapshot(fresh, ignore=NOT_CONTENTS),
        )
        == {}
    )


def count(store: Store, model: type) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(t.table(model))).scalar_one())


def audited(store: Store) -> int:
    with store.engine.connect() as conn:
        q = select(func.count()).where(t.table(t.AuditEvent).c.action == "identity.apply")
        return int(conn.execute(q).scalar_one())


@pytest.mark.parametrize(
    ("before", "after"),
    [(NO_RULES, DEMO_RULES), (NO_RULES, DEMO_ALIAS), (DEMO_RULES, NO_RULES)],
    ids=["rules-added", "alias-added", "rules-removed"],
)
def test_the_demo_estate_restarted_under_new_rules_equals_a_fresh_sync(
    urls: tuple[str, str],
    before: IdentityRules,
    after: IdentityRules,
    caplog: pytest.LogCaptureFixture,
) -> None:
    live_url, fresh_url = urls
    live = open_store(live_url, identity=before)
    load_demo(live, now=NOW)
    live.close()
    fresh = open_store(fresh_url, identity=after)
    load_demo(fresh, now=NOW)
    assets = count(fresh, t.Asset)

    with caplog.at_level(logging.INFO, logger="tempox.identity"):
        live = open_store(live_url, identity=after)  # the restart
    try:
        assert_same(live, fresh)
        assert count(live, t.Asset) == assets
        (line,) = [r.getMessage() for r in caplog.records if r.name == "tempox.identity"]
        assert line.startswith("identity rules changed: ")
        assert "assets merged" in line
        assert "events moved" in line
        # Both are in line with the rules: applying them again, by hand, moves nothing.
        assert not apply_identity(live.engine, after).changed
        assert not apply_identity(fresh.engine, after).changed
    finally:
        live.close()
        fresh.close()


def test_events_a_sync_wrote_again_under_the_new_names_count_once(
    urls: tuple[str, str],
) -> None:
    live_url, fresh_url = urls
    live = Store(live_url, identity=BEFORE)
    write_estate(live)
    # What happened before re-resolving existed: the next syncs wrote the same events (and
    # checks, edges, column lineage) again under the new identities, beside the old ones.
    live.identity = AFTER
    write_estate(live)
    doubled = count(live, t.AssetEvent)
    live.close()
    fresh = Store(fresh_url, identity=AFTER)
    write_estate(fresh)
    assert doubled > count(fresh, t.AssetEvent)

    live = open_store(live_url, identity=AFTER)
    try:
        assert_same(live, fresh)
    finally:
        live.close()
        fresh.close()


def test_checks_column_lineage_links_owners_and_aliases_follow(urls: tuple[str, str]) -> None:
    live_url, fresh_url = urls
    live = Store(live_url, identity=BEFORE)
    write_estate(live)
    ids = {a.uri: a.id for a in _assets(live)}
    live.link_assets(ids[OLD_ORDERS], ids[REPORT], by="ann", note="same rows", now=T0)
    live.link_assets(ids[ORDERS], ids[OLD_ORDERS], by="bob", note=None, now=T0)
    live.close()
    fresh = Store(fresh_url, identity=AFTER)
    write_estate(fresh)
    ids = {a.uri: a.id for a in _assets(fresh)}
    # The links a person would have made: the orders-to-orders one is now the asset itself.
    fresh.link_assets(ids[ORDERS], ids[REPORT], by="ann", note="same rows", now=T0)

    live = open_store(live_url, identity=AFTER)
    try:
        assert_same(live, fresh)
        orders = live.identity.resolve(OLD_ORDERS)[0]
        with live.session() as s:
            (asset,) = [a for a in _assets(live) if a.uri == orders]
            aliases = s.scalars(select(t.AssetAlias).where(t.AssetAlias.asset_id == asset.id))
            assert {(a.alias, a.reason) for a in aliases} == {
                (OLD_ORDERS, "rule lake"),
                ("lake/orders", "asset rule lake → s3://lake"),
            }
            checks = s.scalars(select(t.CheckResult).where(t.CheckResult.asset_id == asset.id))
            assert len(list(checks)) == 4  # two days, two sources
    finally:
        live.close()
        fresh.close()


def _assets(store: Store) -> list[t.Asset]:
    with store.session() as s:
        return list(s.scalars(select(t.Asset)))


def test_a_second_start_changes_nothing(database: str) -> None:
    store = Store(database, identity=BEFORE)
    write_estate(store)
    store.close()
    first = open_store(database, identity=AFTER)
    before, version = snapshot(first), first.version(DATA_VERSION)
    first.close()

    again = open_store(database, identity=AFTER)
    try:
        assert ensure_identity(again.engine, AFTER) is None
        assert snapshot(again) == before
        assert again.version(DATA_VERSION) == version
        # Applied by hand under the same rules: nothing moves either, nothing is audited.
        report = apply_identity(again.engine, AFTER)
        assert not report.changed
        assert report.lines() == []
        assert snapshot(again, skip=("sync_state", "catalog_state")) == {
            k: v for k, v in before.items() if k != "catalog_state"
        }
        assert audited(again) == 1
    finally:
        again.close()


def test_the_rules_fingerprint_is_stored_and_decides_whether_to_apply(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = open_store(database, identity=BEFORE)
    write_estate(store)
    with store.engine.connect() as conn:
        assert read_fingerprint(conn) == fingerprint(BEFORE)
    store.close()

    def locked(*_args: object) -> None:
        raise AssertionError("a start under unchanged rules took the lock")

    with monkeypatch.context() as m:
        m.setattr(identity_apply, "migration_lock", locked)
        open_store(database, identity=BEFORE).close()

    # A catalog from before fingerprints (no row) is checked once against the rules it is
    # started with: already in line with them, nothing changes but the stored fingerprint.
    with store.engine.begin() as conn:
        conn.execute(t.table(t.CatalogState).delete())
    store = open_store(database, identity=BEFORE)
    assert audited(store) == 0
    store.close()

    renamed = IdentityRules(rules=(Rule("lake", prefix="s3://nowhere/", replace="s3://x/"),))
    for rules, applied in ((AFTER, 1), (renamed, 2)):
        store = open_store(database, identity=rules)
        with store.engine.connect() as conn:
            assert read_fingerprint(conn) == fingerprint(rules)
        assert audited(store) == applied
        store.close()


def test_a_dry_run_shows_what_would_merge_and_writes_nothing(database: str) -> None:
    store = Store(database, identity=BEFORE)
    write_estate(store)
    before = snapshot(store, skip=())
    try:
        report = apply_identity(store.engine, AFTER, dry_run=True)
        assert snapshot(store, skip=()) == before
        assert report.dry_run
        assert report.changed
        assert report.merges == {ORDERS: [ORDERS, OLD_ORDERS]}
        assert report.renames == {"s3://legacy/fx": "s3://finance/fx"}
        assert report.lines() == [
            f"merge  {ORDERS} ← {ORDERS}, {OLD_ORDERS}",
            "rename s3://legacy/fx → s3://finance/fx",
        ]
        assert report.counts["events"] == 4
        assert report.counts["duplicate events"] == 0
        # The real run does what the dry run said.
        applied = apply_identity(store.engine, AFTER)
        assert applied.counts == report.counts
        assert applied.summary() == report.summary()
    finally:
        store.close()


def test_a_failure_midway_leaves_nothing_half_written(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(database, identity=BEFORE)
    write_estate(store)
    before = snapshot(store, skip=())
    store.close()

    def broken(*_args: object) -> None:
        raise RuntimeError("disk full")

    with monkeypatch.context() as m:
        m.setattr(identity_moves, "write_aliases", broken)
        with pytest.raises(RuntimeError, match="disk full"):
            open_store(database, identity=AFTER)
    store = Store(database, migrate=False)
    try:
        assert snapshot(store, skip=()) == before  # the events moved before it, too, are back
    finally:
        store.close()
    open_store(database, identity=AFTER).close()  # and the next start applies it


def test_replicas_starting_together_apply_the_rules_once(database: str) -> None:
    store = Store(database, identity=BEFORE)
    write_estate(store)
    store.close()
    code = "import sys; from tests.catalog.store.identity_estate import start; start(sys.argv[1])"
    replicas = [
        subprocess.Popen([sys.executable, "-c", code, database], cwd=ROOT, stderr=subprocess.PIPE)
        for _ in range(3)
    ]
    errors = [p.communicate(timeout=120)[1].decode() for p in replicas]
    assert [p.returncode for p in replicas] == [0, 0, 0], errors
    store = Store(database, migrate=False)
    try:
        assert audited(store) == 1
        assert sum("identity rules changed" in e for e in errors) == 1
        assert {a.uri for a in _assets(store)} == {ORDERS, REPORT, "s3://finance/fx"}
    finally:
        store.close()


def test_a_chain_of_renames_takes_the_keys_the_next_link_gives_up(urls: tuple[str, str]) -> None:
    # s3://a/x → s3://b/x and s3://b/x → s3://c/x: the events of a/x take the keys b/x's
    # events still hold while they move on to c/x.
    chain = IdentityRules(
        rules=(
            Rule("ab", prefix="s3://a/", replace="s3://b/"),
            Rule("bc", prefix="s3://b/", replace="s3://c/"),
        )
    )
    batch = Batch(
        cursor={},
        runs=(RunRecord("job", "r1", RunStatus.SUCCESS, started_at=T0),),
        asset_events=tuple(
            AssetEventRecord(f"s3://{bucket}/x", AssetEventKind.PRODUCED, T0, "r1")
            for bucket in "ab"
        ),
        edges=(EdgeRecord(NodeRef.asset("s3://a/x"), NodeRef.asset("s3://b/x"), seen_at=T0),),
    )
    live_url, fresh_url = urls
    live = Store(live_url)
    live.write_batch(live.ensure_source("s", "synthetic"), batch)
    live.close()
    fresh = Store(fresh_url, identity=chain)
    fresh.write_batch(fresh.ensure_source("s", "synthetic"), batch)

    live = open_store(live_url, identity=chain)
    try:
        assert_same(live, fresh)
        with live.session() as s:
            keys = set(s.scalars(select(t.AssetEvent.event_key)))
        assert {k.split("|")[0] for k in keys} == {"s3://b/x", "s3://c/x"}
    finally:
        live.close()
        fresh.close()
