"""A small estate of records that exercises every table, for store tests."""

from __future__ import annotations

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

T0 = datetime(2026, 11, 16, 6, 0, tzinfo=UTC)
ORDERS = "s3://lake/raw/orders"
REVENUE = "postgres://warehouse:5432/analytics.public.revenue"


def estate_batch(cursor: int = 1) -> Batch:
    return Batch(
        cursor={"page": cursor},
        pipelines=(
            PipelineRecord(
                "etl",
                "Nightly ETL",
                description="orders into the lake",
                owners=("ann@example.com", "data-eng"),
                tags=("nightly", "tier=1"),
                schedule="0 6 * * *",
                paused=False,
                ui_url="https://airflow.example/dags/etl",
            ),
        ),
        tasks=(
            TaskRecord("etl", "extract", kind="PythonOperator"),
            TaskRecord("etl", "load", kind="SQLExecuteQueryOperator", upstream=("extract",)),
        ),
        runs=(
            RunRecord(
                "etl",
                "scheduled__1",
                RunStatus.FAILED,
                "failed",
                TriggerKind.SCHEDULED,
                logical_date=T0,
                queued_at=T0,
                started_at=T0 + timedelta(seconds=5),
                ended_at=T0 + timedelta(minutes=3),
                error="load: relation does not exist",
                tags=("retry-me",),
            ),
            RunRecord(
                "etl",
                "manual__2",
                RunStatus.SUCCESS,
                "success",
                TriggerKind.MANUAL,
                started_at=T0 + timedelta(days=1),
                ended_at=T0 + timedelta(days=1, minutes=2),
                parent_run_id="scheduled__1",
            ),
        ),
        task_runs=(
            TaskRunRecord(
                "scheduled__1",
                "extract",
                RunStatus.FAILED,
                attempt=1,
                started_at=T0,
                ended_at=T0 + timedelta(seconds=30),
            ),
            TaskRunRecord(
                "scheduled__1",
                "extract",
                RunStatus.SUCCESS,
                attempt=2,
                started_at=T0 + timedelta(minutes=1),
                ended_at=T0 + timedelta(minutes=2),
            ),
            TaskRunRecord("scheduled__1", "load", RunStatus.FAILED, error="relation missing"),
            TaskRunRecord("manual__2", "extract", RunStatus.SUCCESS),
            TaskRunRecord("manual__2", "load", RunStatus.SUCCESS),
        ),
        assets=(
            AssetRecord(
                ORDERS,
                alias="raw/orders",
                kind="s3",
                owners=("data-eng",),
                freshness_max_age_s=86400,
                metadata={"format": "parquet"},
            ),
        ),
        asset_events=(
            AssetEventRecord(
                ORDERS,
                AssetEventKind.PRODUCED,
                T0 + timedelta(days=1, minutes=2),
                run_id="manual__2",
                task_id="load",
                row_count=1200,
            ),
            AssetEventRecord(ORDERS, AssetEventKind.CONSUMED, T0 + timedelta(days=1, minutes=9)),
        ),
        check_results=(
            CheckResultRecord(
                ORDERS,
                "row_count_positive",
                True,
                T0 + timedelta(days=1),
                severity="error",
                run_id="manual__2",
            ),
        ),
        edges=(
            EdgeRecord(NodeRef.of_task("etl", "load"), NodeRef.asset(ORDERS)),
            EdgeRecord(NodeRef.asset(ORDERS), NodeRef.pipeline("revenue"), seen_at=T0),
            EdgeRecord(NodeRef.pipeline("revenue"), NodeRef.asset(REVENUE), seen_at=T0),
        ),
    )
