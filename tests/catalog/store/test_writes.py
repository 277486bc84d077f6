from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from catalog.config import parse_settings
from catalog.enums import AssetEventKind, RunStatus
from catalog.errors import AdapterError
from catalog.records import (
    AssetEventRecord,
    AssetRecord,
    Batch,
    EdgeRecord,
    NodeRef,
    PipelineRecord,
    RunRecord,
    TaskRunRecord,
)
from catalog.service import Catalog
from catalog.store import tables as t
from catalog.store.store import Store
from catalog.store.versions import DATA_VERSION, LINEAGE_VERSION
from tests.catalog.store.estate import ORDERS, T0, estate_batch
from tests.catalog.store.snapshot import counts, snapshot


def rows(store: Store, model: type[t.SQLModel], *where: object) -> list[t.SQLModel]:
    with store.session() as s:
        return list(s.scalars(select(model).where(*where)))  # type: ignore[arg-type]


def test_same_batch_twice_changes_nothing(store: Store) -> None:
    source = store.ensure_source("airflow-prod", "airflow")
    store.write_batch(source, estate_batch())
    first = snapshot(store)
    store.write_batch(source, estate_batch())
    assert snapshot(store) == first
    assert counts(store) == {
        "api_token": 0,
        "audit_event": 0,  # a sync is no principal's change
        "asset": 2,
        "asset_alias": 1,
        "asset_link": 0,
        "asset_event": 2,
        "check_result": 1,
        "column_lineage": 0,
        "lineage_edge": 4,
        "alert": 0,  # alerting state: no rules here
        "alert_lease": 0,
        "alert_outbox": 0,
        "alert_rule": 0,
        "lineage_event": 0,  # OpenLineage events as received; a sync has none
        "lineage_run": 0,
        "meta": 2,
        "owner": 3,
        "pipeline": 2,
        "run": 2,
        "source": 1,
        "tag": 3,
        "task": 2,
        "task_run": 5,
    }


def test_cursor_commits_with_the_batch(store: Store) -> None:
    source = store.ensure_source("s", "synthetic")
    store.write_batch(source, estate_batch(cursor=7))
    assert store.read_cursor(source) == {"page": 7}


def test_bad_reference_writes_nothing(store: Store) -> None:
    source = store.ensure_source("s", "synthetic")
    bad = replace(
        estate_batch(cursor=2),
        task_runs=(TaskRunRecord("no-such-run", "extract", RunStatus.SUCCESS),),
    )
    with pytest.raises(AdapterError, match="no-such-run"):
        store.write_batch(source, bad)
    assert store.read_cursor(source) is None
    assert counts(store)["run"] == 0
    assert counts(store)["pipeline"] == 0


def test_references_create_bare_pipelines_and_tasks_later_filled_in(store: Store) -> None:
    source = store.ensure_source("s", "synthetic")
    store.write_batch(
        source,
        Batch(
            cursor={},
            runs=(RunRecord("etl", "r1", RunStatus.RUNNING),),
            task_runs=(TaskRunRecord("r1", "t1", RunStatus.RUNNING),),
        ),
    )
    (bare,) = rows(store, t.Pipeline)
    assert bare.name == "etl"  # type: ignore[attr-defined]
    store.write_batch(source, Batch(cursor={}, pipelines=(PipelineRecord("etl", "The ETL"),)))
    (full,) = rows(store, t.Pipeline)
    assert full.name == "The ETL"  # type: ignore[attr-defined]
    assert [x.external_id for x in rows(store, t.Task)] == ["t1"]  # type: ignore[attr-defined]


def test_runs_of_two_sources_with_the_same_id_stay_apart(store: Store) -> None:
    a = store.ensure_source("a", "airflow")
    b = store.ensure_source("b", "airflow")
    store.write_batch(a, estate_batch())
    store.write_batch(b, estate_batch())
    assert counts(store)["run"] == 4
    assert counts(store)["asset"] == 2  # assets are global: one identity, two aliases
    assert counts(store)["asset_alias"] == 2


def test_labels_are_replaced_exactly(store: Store) -> None:
    source = store.ensure_source("s", "synthetic")
    store.write_batch(source, estate_batch())
    renamed = PipelineRecord("etl", "Nightly ETL", owners=("bob",), tags=("nightly",))
    store.write_batch(source, Batch(cursor={}, pipelines=(renamed,)))
    owners = rows(store, t.Owner, t.Owner.entity_kind == "pipeline")
    assert [o.name for o in owners] == ["bob"]  # type: ignore[attr-defined]
    tags = rows(store, t.Tag, t.Tag.entity_kind == "pipeline")
    assert [x.tag for x in tags] == ["nightly"]  # type: ignore[attr-defined]


def test_a_schedule_and_whether_it_is_active_are_replaced_every_write(store: Store) -> None:
    source = store.ensure_source("s", "dagster")

    def stored(**fields: object) -> tuple[object, ...]:
        record = PipelineRecord("job", "job", **fields)  # type: ignore[arg-type]
        store.write_batch(source, Batch(cursor={}, pipelines=(record,)))
        (p,) = rows(store, t.Pipeline)
        return p.schedule, p.schedule_active, p.paused  # type: ignore[attr-defined]

    assert stored(schedule="0 5 * * *", schedule_active=True, paused=False) == (
        "0 5 * * *",
        True,
        False,
    )
    # Stopped: still shown, no longer active.
    assert stored(schedule="0 5 * * *", schedule_active=False, paused=True) == (
        "0 5 * * *",
        False,
        True,
    )
    # No schedule: nothing can be active, whatever the record says.
    assert stored(schedule=None, schedule_active=True) == (None, None, None)


def test_a_run_s_own_owners_are_kept_until_it_names_others(store: Store) -> None:
    source = store.ensure_source("s", "dagster")
    pipeline = PipelineRecord("fx_job", "fx_job", owners=("team:finance",))
    run = RunRecord("fx_job", "r1", RunStatus.FAILED, owners=("team:finance", "bob"))

    def owners() -> set[tuple[str, str]]:
        return {(o.entity_kind, o.name) for o in rows(store, t.Owner)}  # type: ignore[attr-defined]

    store.write_batch(source, Batch(cursor={}, pipelines=(pipeline,), runs=(run,)))
    expected = {("pipeline", "team:finance"), ("run", "team:finance"), ("run", "bob")}
    assert owners() == expected
    # A record of the run that names no owner (an update of its status) leaves them.
    store.write_batch(source, Batch(cursor={}, runs=(replace(run, owners=()),)))
    assert owners() == expected
    store.write_batch(source, Batch(cursor={}, runs=(replace(run, owners=("carol",)),)))
    assert owners() == {("pipeline", "team:finance"), ("run", "carol")}


def test_a_source_that_knows_less_keeps_what_another_said(store: Store) -> None:
    a = store.ensure_source("a", "dagster")
    b = store.ensure_source("b", "openlineage")
    store.write_batch(
        a,
        Batch(
            cursor={},
            assets=(
                AssetRecord(
                    ORDERS,
                    kind="table",
                    description="orders",
                    freshness_max_age_s=60,
                    metadata={"cols": 3},
                ),
            ),
        ),
    )
    store.write_batch(b, Batch(cursor={}, assets=(AssetRecord(ORDERS),)))
    (asset,) = rows(store, t.Asset)
    assert (asset.kind, asset.description, asset.freshness_max_age_s, asset.meta) == (  # type: ignore[attr-defined]
        "table",
        "orders",
        60,
        {"cols": 3},
    )


def test_freshness_follows_the_latest_materialisation(store: Store) -> None:
    source = store.ensure_source("s", "synthetic")
    store.write_batch(source, estate_batch())
    (asset,) = rows(store, t.Asset, t.Asset.uri == ORDERS)
    produced = T0 + timedelta(days=1, minutes=2)
    assert asset.last_produced_at == produced  # type: ignore[attr-defined]
    assert asset.stale_after == produced + timedelta(days=1)  # type: ignore[attr-defined]
    older = AssetEventRecord(ORDERS, AssetEventKind.PRODUCED, T0 - timedelta(days=3))
    newer = AssetEventRecord(ORDERS, AssetEventKind.PRODUCED, T0 + timedelta(days=5))
    store.write_batch(source, Batch(cursor={}, asset_events=(older,)))
    (asset,) = rows(store, t.Asset, t.Asset.uri == ORDERS)
    assert asset.last_produced_at == produced  # type: ignore[attr-defined]  # a late event never moves it back
    store.write_batch(source, Batch(cursor={}, asset_events=(newer,)))
    (asset,) = rows(store, t.Asset, t.Asset.uri == ORDERS)
    assert asset.stale_after == T0 + timedelta(days=6)  # type: ignore[attr-defined]


def test_a_stopped_schedule_leaves_freshness_to_the_asset_s_policy(store: Store) -> None:
    """The pipeline that writes an asset stopping its schedule changes no staleness: only
    the asset's own policy and its materialisations do (catalog.freshness)."""
    source = store.ensure_source("s", "synthetic")
    store.write_batch(source, estate_batch())
    before = [(a.uri, a.stale_after) for a in rows(store, t.Asset)]  # type: ignore[attr-defined]
    [etl] = estate_batch().pipelines
    stopped = replace(etl, schedule_active=False, paused=True)
    store.write_batch(source, Batch(cursor={}, pipelines=(stopped,)))
    (p,) = rows(store, t.Pipeline, t.Pipeline.external_id == "etl")
    assert (p.schedule, p.schedule_active) == ("0 6 * * *", False)  # type: ignore[attr-defined]
    assert [(a.uri, a.stale_after) for a in rows(store, t.Asset)] == before  # type: ignore[attr-defined]


def test_a_cron_policy_is_stale_from_the_first_deadline_it_misses(store: Store) -> None:
    dagster = store.ensure_source("dagster", "synthetic")
    policy = AssetRecord(
        ORDERS, freshness_max_age_s=6 * 3600, freshness_cron="0 6 * * *", freshness_timezone="UTC"
    )
    produced = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)
    made = AssetEventRecord(ORDERS, AssetEventKind.PRODUCED, produced)
    store.write_batch(dagster, Batch(cursor={}, assets=(policy,), asset_events=(made,)))
    (asset,) = rows(store, t.Asset, t.Asset.uri == ORDERS)
    assert asset.stale_after == datetime(2026, 11, 25, 6, tzinfo=UTC)  # type: ignore[attr-defined]
    # Another source that knows the asset without a policy keeps it; one with a plain maximum
    # age replaces all of it.
    airflow = store.ensure_source("airflow", "synthetic")
    store.write_batch(airflow, Batch(cursor={}, assets=(AssetRecord(ORDERS, kind="table"),)))
    (asset,) = rows(store, t.Asset, t.Asset.uri == ORDERS)
    assert (asset.freshness_cron, asset.freshness_max_age_s) == ("0 6 * * *", 6 * 3600)  # type: ignore[attr-defined]
    plain = AssetRecord(ORDERS, freshness_max_age_s=3600)
    store.write_batch(airflow, Batch(cursor={}, assets=(plain,)))
    (asset,) = rows(store, t.Asset, t.Asset.uri == ORDERS)
    assert (asset.freshness_cron, asset.freshness_timezone) == (None, None)  # type: ignore[attr-defined]
    assert asset.stale_after == produced + timedelta(hours=1)  # type: ignore[attr-defined]


def test_a_policy_that_cannot_be_evaluated_fails_the_batch_naming_the_asset(store: Store) -> None:
    source = store.ensure_source("s", "synthetic")
    bad = AssetRecord(ORDERS, freshness_max_age_s=60, freshness_cron="0 6 * *")
    with pytest.raises(AdapterError, match=f"asset '{ORDERS}': freshness policy: cron"):
        store.write_batch(source, Batch(cursor={"n": 1}, assets=(bad,)))
    assert rows(store, t.Asset) == []


def test_two_spellings_of_one_table_are_one_asset(store: Store) -> None:
    airflow = store.ensure_source("airflow", "synthetic")
    spark = store.ensure_source("spark", "synthetic")
    store.write_batch(
        airflow, Batch(cursor={}, assets=(AssetRecord("postgresql://DB/shop.public.orders"),))
    )
    made = AssetEventRecord("postgres://db:5432/shop.public.orders", AssetEventKind.PRODUCED, T0)
    store.write_batch(spark, Batch(cursor={}, asset_events=(made,)))
    (asset,) = rows(store, t.Asset)
    assert asset.uri == "postgres://db:5432/shop.public.orders"  # type: ignore[attr-defined]
    (alias,) = rows(store, t.AssetAlias)
    assert (alias.source_id, alias.alias) == (airflow, "postgresql://DB/shop.public.orders")  # type: ignore[attr-defined]
    # Asked for by any spelling, it is found.
    found = Catalog(store).asset("POSTGRESQL://db/shop.public.orders/")
    assert found is not None
    assert found.id == asset.id  # type: ignore[attr-defined]


def test_identity_rules_make_two_tools_names_one_asset_and_keep_why(store: Store) -> None:
    rules = parse_settings(
        {
            "identity": {
                "rules": [
                    {
                        "name": "airflow-postgres",
                        "pattern": r"postgres://db:5432/(\w+)/(\w+)/(\w+)",
                        "uri": "postgres://db:5432/{0}.{1}.{2}",
                    }
                ]
            }
        }
    ).identity.compile()
    ruled = Store(store.url, engine=store.engine, migrate=False, identity=rules)
    airflow = ruled.ensure_source("airflow", "airflow")
    spark = ruled.ensure_source("spark", "openlineage")
    wrote = EdgeRecord(
        NodeRef.of_task("load", "copy"), NodeRef.asset("postgres://db/shop/public/orders")
    )
    ruled.write_batch(airflow, Batch(cursor={}, edges=(wrote,)))
    read = AssetEventRecord("postgres://db:5432/shop.public.orders", AssetEventKind.CONSUMED, T0)
    ruled.write_batch(spark, Batch(cursor={}, asset_events=(read,)))
    (asset,) = rows(ruled, t.Asset)
    assert asset.uri == "postgres://db:5432/shop.public.orders"  # type: ignore[attr-defined]
    aliases = {(a.source_id, a.alias, a.reason) for a in rows(ruled, t.AssetAlias)}  # type: ignore[attr-defined]
    assert aliases == {(airflow, "postgres://db/shop/public/orders", "rule airflow-postgres")}
    assert Catalog(ruled).asset("postgres://db/shop/public/orders") is not None


def test_asset_event_is_linked_to_its_task_run_attempt(store: Store) -> None:
    source = store.ensure_source("s", "synthetic")
    store.write_batch(source, estate_batch())
    (event,) = rows(store, t.AssetEvent, t.AssetEvent.kind == "produced")
    (task_run,) = rows(store, t.TaskRun, t.TaskRun.id == event.task_run_id)  # type: ignore[attr-defined]
    assert task_run.status == "success"  # type: ignore[attr-defined]
    assert event.row_count == 1200  # type: ignore[attr-defined]


def test_asset_event_without_attempt_is_linked_to_the_latest_attempt(store: Store) -> None:
    source = store.ensure_source("s", "synthetic")
    store.write_batch(source, estate_batch())
    run, task = "manual__2", "extract"
    tries = [
        TaskRunRecord(run, task, RunStatus.FAILED if n < 3 else RunStatus.SUCCESS, attempt=n)
        for n in (1, 2, 3)
    ]
    tries.append(TaskRunRecord(run, task, RunStatus.SUCCESS, attempt=2, map_index=0))
    events = tuple(
        AssetEventRecord(ORDERS, AssetEventKind.PRODUCED, T0, run, task, attempt, external_id=k)
        for k, attempt in (("any", None), ("second", 2), ("missing", 9))
    )
    store.write_batch(source, Batch(cursor={}, task_runs=tuple(tries), asset_events=events))
    linked = {e.event_key: e.task_run_id for e in rows(store, t.AssetEvent)}  # type: ignore[attr-defined]
    made = {(r.attempt, r.map_index): r.id for r in rows(store, t.TaskRun)}  # type: ignore[attr-defined]
    assert linked["any"] == made[(3, -1)]
    assert linked["second"] == max(made[(2, -1)], made[(2, 0)])  # the last one made
    assert linked["missing"] is None


def test_asset_event_in_a_later_batch_than_its_task_run_is_linked_to_it(store: Store) -> None:
    source = store.ensure_source("s", "synthetic")
    store.write_batch(source, estate_batch())
    later = AssetEventRecord(
        ORDERS, AssetEventKind.PRODUCED, T0, "manual__2", "extract", external_id="later"
    )
    store.write_batch(source, Batch(cursor={}, asset_events=(later,)))
    (event,) = rows(store, t.AssetEvent, t.AssetEvent.event_key == "later")  # type: ignore[arg-type]
    (task_run,) = rows(store, t.TaskRun, t.TaskRun.id == event.task_run_id)  # type: ignore[attr-defined]
    (task,) = rows(store, t.Task, t.Task.id == task_run.task_id)  # type: ignore[attr-defined]
    assert task.external_id == "extract"  # type: ignore[attr-defined]
    assert len(rows(store, t.Task)) == 2  # found, not made


def test_parent_runs_resolve_within_and_across_batches(store: Store) -> None:
    source = store.ensure_source("s", "synthetic")
    store.write_batch(source, estate_batch())
    child = RunRecord("etl", "child", RunStatus.SUCCESS, parent_run_id="manual__2")
    store.write_batch(source, Batch(cursor={}, runs=(child,)))
    by_ext = {r.external_id: r for r in rows(store, t.Run)}  # type: ignore[attr-defined]
    assert by_ext["manual__2"].parent_run_id == by_ext["scheduled__1"].id  # type: ignore[attr-defined]
    assert by_ext["child"].parent_run_id == by_ext["manual__2"].id  # type: ignore[attr-defined]


def test_datetimes_are_stored_and_returned_as_utc(store: Store) -> None:
    source = store.ensure_source("s", "synthetic")
    cet = timezone(timedelta(hours=1))
    naive = datetime(2026, 1, 1, 12, 0)
    store.write_batch(
        source,
        Batch(
            cursor={},
            runs=(
                RunRecord(
                    "p", "aware", RunStatus.SUCCESS, started_at=datetime(2026, 1, 1, 13, tzinfo=cet)
                ),
                RunRecord("p", "naive", RunStatus.SUCCESS, started_at=naive),
            ),
        ),
    )
    for run in rows(store, t.Run):
        assert run.started_at == datetime(2026, 1, 1, 12, tzinfo=UTC)  # type: ignore[attr-defined]
        assert run.started_at.tzinfo is not None  # type: ignore[attr-defined]


def test_duration_and_happened_at_are_derived(store: Store) -> None:
    source = store.ensure_source("s", "synthetic")
    store.write_batch(source, estate_batch())
    run = next(r for r in rows(store, t.Run) if r.external_id == "scheduled__1")  # type: ignore[attr-defined]
    assert run.duration_s == 175.0  # type: ignore[attr-defined]
    assert run.happened_at == T0 + timedelta(seconds=5)  # type: ignore[attr-defined]


def test_versions_move_only_when_something_changed(store: Store) -> None:
    source = store.ensure_source("s", "synthetic")
    store.write_batch(source, estate_batch())
    data, lineage = store.version(DATA_VERSION), store.version(LINEAGE_VERSION)
    assert (data, lineage) == (1, 1)
    store.write_batch(source, estate_batch())
    assert (store.version(DATA_VERSION), store.version(LINEAGE_VERSION)) == (1, 1)
    moved = replace(estate_batch(), runs=(replace(estate_batch().runs[0], error="other"),))
    store.write_batch(source, moved)
    assert (store.version(DATA_VERSION), store.version(LINEAGE_VERSION)) == (2, 1)
    edge = EdgeRecord(NodeRef.asset(ORDERS), NodeRef.asset("s3://lake/clean/orders"))
    store.write_batch(source, Batch(cursor={}, edges=(edge,)))
    assert (store.version(DATA_VERSION), store.version(LINEAGE_VERSION)) == (3, 2)


def test_edge_seen_times_only_widen(store: Store) -> None:
    source = store.ensure_source("s", "synthetic")
    up, down = NodeRef.asset("a://x"), NodeRef.asset("a://y")
    for seen in (T0, T0 - timedelta(days=1), T0 + timedelta(days=1), T0):
        store.write_batch(source, Batch(cursor={}, edges=(EdgeRecord(up, down, seen_at=seen),)))
    (edge,) = rows(store, t.LineageEdge)
    assert edge.first_seen == T0 - timedelta(days=1)  # type: ignore[attr-defined]
    assert edge.last_seen == T0 + timedelta(days=1)  # type: ignore[attr-defined]


def test_a_big_batch_crosses_every_chunk_boundary(store: Store) -> None:
    source = store.ensure_source("s", "synthetic")
    runs = tuple(
        RunRecord(f"p{i % 7}", f"r{i}", RunStatus.SUCCESS, started_at=T0) for i in range(2500)
    )
    task_runs = tuple(TaskRunRecord(f"r{i}", "t", RunStatus.SUCCESS) for i in range(2500))
    store.write_batch(source, Batch(cursor={}, runs=runs, task_runs=task_runs))
    assert counts(store)["run"] == 2500
    assert counts(store)["task_run"] == 2500
    assert counts(store)["task"] == 7


def test_leases_keep_two_workers_off_one_source(store: Store) -> None:
    source = store.ensure_source("s", "synthetic")
    assert store.try_lease(source, "worker-1", timedelta(minutes=5))
    assert not store.try_lease(source, "worker-2", timedelta(minutes=5))
    store.finish_sync(source, "worker-1", None)
    assert store.try_lease(source, "worker-2", timedelta(seconds=-1))  # expires at once
    assert store.try_lease(source, "worker-3", timedelta(minutes=5))
