"""Two sources that name the same tables in two ways, for identity-change tests: what a
catalog holds before and after ``[identity]`` rules change, and the rules themselves.

Airflow writes ``s3://old-lake/orders`` (a check on it, column lineage from it, owners), Dagster
reads ``s3://lake/orders`` (its own key ``lake/orders``) and writes ``s3://lake/report``. The
``lake`` rule makes the two spellings of the orders table one asset; ``legacy`` renames
Dagster's ``s3://legacy/fx`` alone.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from catalog.enums import AssetEventKind, EdgeOrigin, RunStatus
from catalog.identity import NO_RULES, IdentityRules, Rule
from catalog.records import (
    AssetEventRecord,
    AssetRecord,
    Batch,
    CheckResultRecord,
    ColumnLineageRecord,
    EdgeRecord,
    NodeRef,
    PipelineRecord,
    RunRecord,
    TaskRecord,
    TaskRunRecord,
)
from catalog.store.store import Store, open_store

T0 = datetime(2027, 1, 4, 6, 0, tzinfo=UTC)
OLD_ORDERS = "s3://old-lake/orders"
ORDERS = "s3://lake/orders"
REPORT = "s3://lake/report"
FX = "s3://legacy/fx"

BEFORE = NO_RULES
AFTER = IdentityRules(
    rules=(
        Rule("lake", prefix="s3://old-lake/", replace="s3://lake/"),
        Rule("legacy", pattern=re.compile(r"s3://legacy/(\w+)"), uri="s3://finance/{0}"),
    )
)


def airflow_batch(day: int = 0) -> Batch:
    at = T0 + timedelta(days=day)
    run = f"scheduled__{day}"
    return Batch(
        cursor={"day": day},
        pipelines=(PipelineRecord("etl", "Nightly ETL", owners=("data-eng",)),),
        tasks=(TaskRecord("etl", "load"),),
        runs=(RunRecord("etl", run, RunStatus.SUCCESS, started_at=at, ended_at=at),),
        task_runs=(TaskRunRecord(run, "load", RunStatus.SUCCESS, started_at=at, ended_at=at),),
        assets=(AssetRecord(OLD_ORDERS, kind="s3", owners=("ann@example.com",), tags=("raw",)),),
        asset_events=(
            AssetEventRecord(OLD_ORDERS, AssetEventKind.PRODUCED, at, run, "load", row_count=10),
        ),
        check_results=(CheckResultRecord(OLD_ORDERS, "not_empty", True, at, run_id=run),),
        column_lineage=(ColumnLineageRecord(REPORT, "total", OLD_ORDERS, "amount", seen_at=at),),
        edges=(
            EdgeRecord(NodeRef.of_task("etl", "load"), NodeRef.asset(OLD_ORDERS), seen_at=at),
            EdgeRecord(
                NodeRef.asset(OLD_ORDERS),
                NodeRef.asset(REPORT),
                EdgeOrigin.OBSERVED,
                seen_at=at,
            ),
        ),
    )


def dagster_batch(day: int = 0) -> Batch:
    at = T0 + timedelta(days=day, hours=1)
    run = f"run-{day}"
    return Batch(
        cursor={"day": day},
        pipelines=(PipelineRecord("report_job", "report_job"),),
        runs=(RunRecord("report_job", run, RunStatus.SUCCESS, started_at=at, ended_at=at),),
        assets=(
            AssetRecord(ORDERS, alias="lake/orders", alias_reason="asset rule lake → s3://lake"),
            AssetRecord(REPORT, alias="lake/report", description="revenue", tags=("gold",)),
            AssetRecord(FX, alias="legacy/fx", freshness_max_age_s=86400.0),
        ),
        asset_events=(
            AssetEventRecord(ORDERS, AssetEventKind.CONSUMED, at, run),
            AssetEventRecord(REPORT, AssetEventKind.PRODUCED, at, run, row_count=3),
            AssetEventRecord(FX, AssetEventKind.PRODUCED, at, run),
        ),
        check_results=(CheckResultRecord(ORDERS, "not_empty", True, at, run_id=run),),
        column_lineage=(ColumnLineageRecord(REPORT, "total", ORDERS, "amount", seen_at=at),),
        edges=(EdgeRecord(NodeRef.asset(ORDERS), NodeRef.asset(REPORT), seen_at=at),),
    )


def write_estate(store: Store, days: range = range(2)) -> None:
    """Both sources' batches, day by day, under the store's own rules."""
    airflow = store.ensure_source("airflow", "airflow")
    dagster = store.ensure_source("dagster", "dagster")
    for day in days:
        store.write_batch(airflow, airflow_batch(day))
        store.write_batch(dagster, dagster_batch(day))


def start(url: str) -> None:
    """A process starting on ``url`` under the new rules (several run at once in a test)."""
    open_store(url, identity=AFTER).close()
