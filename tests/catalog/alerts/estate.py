"""A cross-tool estate for alert tests: an Airflow DAG writes ``orders``; a Dagster job reads it
and writes ``revenue``; a Prefect flow reads ``revenue`` and writes ``report``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from catalog.alerts.settings import AlertSettings
from catalog.enums import AssetEventKind, RunStatus
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
)
from catalog.store.store import Store

T0 = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
ORDERS = "s3://lake/raw/orders"
REVENUE = "postgres://warehouse:5432/analytics.public.revenue"
REPORT = "s3://lake/reports/daily"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def airflow_runs(runs: Sequence[tuple[str, RunStatus, datetime]], cursor: int = 1) -> Batch:
    """The ``etl`` DAG with the given runs (id, status, end), its task writing ``orders``."""
    return Batch(
        cursor={"page": cursor},
        pipelines=(
            PipelineRecord(
                "etl",
                "etl",
                owners=("ann@example.com",),
                tags=("nightly",),
                ui_url="http://airflow.local/dags/etl",
            ),
        ),
        tasks=(TaskRecord("etl", "load"),),
        runs=tuple(
            RunRecord(
                "etl",
                ext,
                status,
                started_at=end - timedelta(minutes=5),
                ended_at=end,
                error="load: relation orders does not exist"
                if status is RunStatus.FAILED
                else None,
                ui_url=f"http://airflow.local/dags/etl/runs/{ext}",
            )
            for ext, status, end in runs
        ),
        assets=(AssetRecord(ORDERS, owners=("data-eng",)),),
        edges=(EdgeRecord(NodeRef.of_task("etl", "load"), NodeRef.asset(ORDERS)),),
    )


def dagster_estate() -> Batch:
    return Batch(
        cursor={"page": 1},
        pipelines=(PipelineRecord("revenue_job", "revenue_job", owners=("bi@example.com",)),),
        assets=(
            AssetRecord(
                REVENUE,
                alias="warehouse/revenue",
                owners=("finance-data",),
                freshness_max_age_s=3600,
            ),
        ),
        edges=(
            EdgeRecord(NodeRef.asset(ORDERS), NodeRef.pipeline("revenue_job")),
            EdgeRecord(NodeRef.pipeline("revenue_job"), NodeRef.asset(REVENUE)),
        ),
    )


def prefect_estate() -> Batch:
    return Batch(
        cursor={"page": 1},
        pipelines=(PipelineRecord("report-flow", "report-flow", owners=("analytics",)),),
        assets=(AssetRecord(REPORT, owners=("ceo-office",)),),
        edges=(
            EdgeRecord(NodeRef.asset(REVENUE), NodeRef.pipeline("report-flow")),
            EdgeRecord(NodeRef.pipeline("report-flow"), NodeRef.asset(REPORT)),
        ),
    )


def produced(uri: str, at: datetime, cursor: int = 2) -> Batch:
    return Batch(
        cursor={"page": cursor},
        assets=(AssetRecord(uri),),
        asset_events=(AssetEventRecord(uri, AssetEventKind.PRODUCED, at),),
    )


def checked(uri: str, passed: bool, at: datetime, cursor: int = 3) -> Batch:
    return Batch(
        cursor={"page": cursor},
        assets=(AssetRecord(uri),),
        check_results=(CheckResultRecord(uri, "rows_positive", passed, at, severity="error"),),
    )


def cross_tool(store: Store) -> dict[str, int]:
    """The three sources with their (run-less) estates; returns their ids."""
    ids = {
        "airflow-prod": store.ensure_source("airflow-prod", "airflow"),
        "dagster-prod": store.ensure_source("dagster-prod", "dagster"),
        "prefect-prod": store.ensure_source("prefect-prod", "prefect"),
    }
    store.write_batch(ids["airflow-prod"], airflow_runs([]))
    store.write_batch(ids["dagster-prod"], dagster_estate())
    store.write_batch(ids["prefect-prod"], prefect_estate())
    return ids


def alert_settings(*rules: dict[str, Any], **extra: Any) -> AlertSettings:
    return AlertSettings.model_validate(
        {
            "destinations": [{"name": "ops", "kind": "webhook", "url": "http://127.0.0.1:9/hook"}],
            "rules": list(rules),
            **extra,
        }
    )
