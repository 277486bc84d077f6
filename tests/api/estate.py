"""A small but rich estate across two tools, written through the store like a real sync.

Airflow ingests orders and exports reports; Dagster cleans the orders and computes revenue.
The lineage chain crosses tools through asset identity::

    [airflow] ingest_orders.load -> s3://lake/raw/orders -> [dagster] clean_orders
      -> s3://lake/clean/orders -> daily_revenue -> warehouse://analytics/daily_revenue
      -> [airflow] export_reports -> warehouse://analytics/dashboard

At ``NOW`` (a Tuesday noon) clean/orders is stale (6 h policy, produced yesterday 06:00),
daily_revenue is stale because it was never produced, raw/orders is fresh (2-day policy) and
the dashboard has no policy.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from catalog.enums import AssetEventKind, RunStatus, TriggerKind
from catalog.records import (
    AssetEventRecord,
    AssetRecord,
    Batch,
    CheckResultRecord,
    EdgeRecord,
    NodeRef,
    PipelineRecord,
    RunRecord,
    TaskRecord,
    TaskRunRecord,
)
from catalog.store.store import Store

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)

RAW = "s3://lake/raw/orders"
CLEAN = "s3://lake/clean/orders"
REVENUE = "warehouse://analytics/daily_revenue"
DASHBOARD = "warehouse://analytics/dashboard"


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def _run(
    pipeline: str,
    ext: str,
    status: RunStatus,
    start: datetime,
    minutes: int | None,
    trigger: TriggerKind = TriggerKind.SCHEDULED,
    error: str | None = None,
    tags: tuple[str, ...] = (),
) -> RunRecord:
    return RunRecord(
        pipeline,
        ext,
        status,
        raw_status=status.value,
        trigger=trigger,
        logical_date=start,
        queued_at=start - timedelta(minutes=1),
        started_at=start,
        ended_at=None if minutes is None else start + timedelta(minutes=minutes),
        error=error,
        ui_url=f"https://tool.example/runs/{ext}",
        tags=tags,
        metadata={"host": "worker-1"},
    )


def airflow_batch() -> Batch:
    return Batch(
        cursor={"page": 1},
        notices=("DAG import error in broken_dag.py",),
        pipelines=(
            PipelineRecord(
                "ingest_orders",
                "Ingest orders",
                description="orders into the lake",
                owners=("data-eng@acme.io",),
                tags=("nightly", "tier=1"),
                schedule="0 2 * * *",
                schedule_active=True,
                paused=False,
                ui_url="https://airflow.example/dags/ingest_orders",
            ),
            PipelineRecord(
                "export_reports",
                "Export reports",
                owners=("bi@acme.io",),
                tags=("reporting",),
                schedule="0 3 * * *",
                schedule_active=False,  # the DAG is paused
                paused=True,
            ),
        ),
        tasks=(
            TaskRecord("ingest_orders", "extract", kind="PythonOperator"),
            TaskRecord("ingest_orders", "load", kind="S3Operator", upstream=("extract",)),
            TaskRecord("export_reports", "render", kind="PythonOperator"),
        ),
        runs=(
            _run(
                "ingest_orders",
                "ingest_orders/scheduled__0220",
                RunStatus.FAILED,
                at(1, 2) - 9 * DAY,
                3,
                error="extract: API down",
            ),
            _run(
                "export_reports", "export_reports/scheduled__0305", RunStatus.SUCCESS, at(5, 3), 4
            ),
            _run(
                "ingest_orders",
                "ingest_orders/scheduled__0308",
                RunStatus.FAILED,
                at(8, 2),
                12,
                error="load: timeout writing s3://lake/raw/orders",
                tags=("retry-me",),
            ),
            _run(
                "export_reports",
                "export_reports/scheduled__0308",
                RunStatus.UPSTREAM_FAILED,
                at(8, 3),
                0,
            ),
            _run(
                "ingest_orders",
                "ingest_orders/manual__0309",
                RunStatus.SUCCESS,
                at(9, 2),
                10,
                trigger=TriggerKind.MANUAL,
            ),
            _run(
                "ingest_orders",
                "ingest_orders/scheduled__0310",
                RunStatus.RUNNING,
                at(10, 11, 50),
                None,
            ),
        ),
        task_runs=(
            TaskRunRecord(
                "ingest_orders/scheduled__0308",
                "extract",
                RunStatus.SUCCESS,
                started_at=at(8, 2),
                ended_at=at(8, 2, 2),
            ),
            TaskRunRecord(
                "ingest_orders/scheduled__0308",
                "load",
                RunStatus.FAILED,
                attempt=1,
                started_at=at(8, 2, 3),
                ended_at=at(8, 2, 6),
                error="timeout",
            ),
            TaskRunRecord(
                "ingest_orders/scheduled__0308",
                "load",
                RunStatus.FAILED,
                attempt=2,
                started_at=at(8, 2, 8),
                ended_at=at(8, 2, 12),
                error="timeout",
                log_url="https://airflow.example/log/load/2",
            ),
            TaskRunRecord(
                "ingest_orders/manual__0309",
                "extract",
                RunStatus.SUCCESS,
                started_at=at(9, 2),
                ended_at=at(9, 2, 4),
            ),
            TaskRunRecord(
                "ingest_orders/manual__0309",
                "load",
                RunStatus.SUCCESS,
                started_at=at(9, 2, 5),
                ended_at=at(9, 2, 10),
            ),
        ),
        assets=(
            AssetRecord(
                RAW,
                alias=RAW,
                kind="s3",
                owners=("data-eng@acme.io",),
                tags=("pii",),
                freshness_max_age_s=2 * 86400,
                description="raw orders, one file a day",
            ),
            AssetRecord(DASHBOARD, kind="table", owners=("bi@acme.io",)),
        ),
        asset_events=(
            AssetEventRecord(
                RAW,
                AssetEventKind.PRODUCED,
                at(9, 2, 10),
                run_id="ingest_orders/manual__0309",
                task_id="load",
                attempt=1,
                row_count=1200,
            ),
            AssetEventRecord(RAW, AssetEventKind.PRODUCED, at(5, 2, 10), row_count=1100),
            AssetEventRecord(
                REVENUE,
                AssetEventKind.CONSUMED,
                at(5, 3, 1),
                run_id="export_reports/scheduled__0305",
            ),
        ),
        edges=(
            EdgeRecord(NodeRef.of_task("ingest_orders", "load"), NodeRef.asset(RAW)),
            EdgeRecord(NodeRef.pipeline("ingest_orders"), NodeRef.asset(RAW)),
            EdgeRecord(NodeRef.asset(REVENUE), NodeRef.pipeline("export_reports")),
            EdgeRecord(NodeRef.pipeline("export_reports"), NodeRef.asset(DASHBOARD)),
        ),
    )


def dagster_batch() -> Batch:
    return Batch(
        cursor={"storage_id": 42},
        pipelines=(
            PipelineRecord(
                "orders_job", "orders_job", owners=("analytics@acme.io",), tags=("dagster",)
            ),
        ),
        tasks=(
            TaskRecord("orders_job", "clean_orders", kind="op"),
            TaskRecord("orders_job", "daily_revenue", kind="op", upstream=("clean_orders",)),
        ),
        runs=(
            _run("orders_job", "d-100", RunStatus.SUCCESS, at(9, 6), 5, trigger=TriggerKind.EVENT),
            replace(
                _run(
                    "orders_job",
                    "d-101",
                    RunStatus.FAILED,
                    at(9, 18),
                    2,
                    error="daily_revenue: division by zero",
                ),
                owners=("oncall@acme.io",),  # launched with an owner tag of its own
            ),
        ),
        task_runs=(
            TaskRunRecord(
                "d-100",
                "clean_orders",
                RunStatus.SUCCESS,
                started_at=at(9, 6),
                ended_at=at(9, 6, 3),
            ),
            TaskRunRecord(
                "d-101",
                "clean_orders",
                RunStatus.FAILED,
                started_at=at(9, 18),
                ended_at=at(9, 18, 2),
            ),
            TaskRunRecord("d-101", "daily_revenue", RunStatus.UPSTREAM_FAILED),
        ),
        assets=(
            AssetRecord(RAW, alias="lake/raw/orders"),
            AssetRecord(
                CLEAN,
                alias="lake/clean/orders",
                kind="s3",
                owners=("analytics@acme.io",),
                freshness_max_age_s=6 * 3600,
            ),
            AssetRecord(
                REVENUE,
                alias="daily_revenue",
                kind="table",
                owners=("analytics@acme.io", "cfo@acme.io"),
                freshness_max_age_s=86400,
            ),
        ),
        asset_events=(
            AssetEventRecord(RAW, AssetEventKind.CONSUMED, at(9, 6), run_id="d-100"),
            AssetEventRecord(
                CLEAN,
                AssetEventKind.PRODUCED,
                at(9, 6, 3),
                run_id="d-100",
                task_id="clean_orders",
                row_count=1150,
                metadata={"partition": "2026-03-09"},
            ),
        ),
        check_results=(
            CheckResultRecord(CLEAN, "row_count_positive", True, at(9, 6, 4), run_id="d-100"),
            CheckResultRecord(
                CLEAN, "no_null_ids", False, at(9, 6, 4), severity="error", run_id="d-100"
            ),
        ),
        edges=(
            EdgeRecord(NodeRef.asset(RAW), NodeRef.of_task("orders_job", "clean_orders")),
            EdgeRecord(NodeRef.of_task("orders_job", "clean_orders"), NodeRef.asset(CLEAN)),
            EdgeRecord(NodeRef.asset(CLEAN), NodeRef.of_task("orders_job", "daily_revenue")),
            EdgeRecord(NodeRef.of_task("orders_job", "daily_revenue"), NodeRef.asset(REVENUE)),
        ),
    )


def seed(store: Store) -> None:
    """Sync both sources the way the sync engine does: Airflow succeeds, Dagster then fails."""
    ttl = timedelta(minutes=5)
    dagster = store.ensure_source("dagster-prod", "dagster")
    assert store.try_lease(dagster, "test", ttl)
    store.write_batch(dagster, dagster_batch(), lease_ttl=ttl, owner="test")
    store.finish_sync(dagster, "test", "dagster-prod: GraphQL endpoint refused the connection")
    airflow = store.ensure_source("airflow-prod", "airflow", base_url="https://airflow.example")
    assert store.try_lease(airflow, "test", ttl)
    store.write_batch(airflow, airflow_batch(), lease_ttl=ttl, owner="test")
    store.finish_sync(airflow, "test", None)
