"""Dagster definitions the Dagster adapter tests load into a real dagster-webserver.

Assets with dependencies, owners, kinds, tags and groups; an external AssetSpec (a table
another tool writes) that warehouse assets depend on; an undeclared dependency (an
auto-created stub); a time-window and a cron freshness policy; a passing and a failing asset
check; a job whose second op fails; a job whose first op fails once and succeeds on its retry;
an asset job on a (running) schedule and a (stopped) sensor, never ticking: the tests run no
daemon; a job owned through its tags on a stopped schedule, never run.
"""

from __future__ import annotations

from datetime import timedelta

import dagster as dg

RAW_ORDERS = dg.AssetSpec(
    key=["lake", "raw", "orders"],
    description="Raw orders, landed by Airflow",
    owners=["team:ingest"],
    kinds={"s3"},
    group_name="lake",
)


@dg.asset(
    key_prefix=["warehouse"],
    deps=[RAW_ORDERS],
    owners=["alice@example.com", "team:analytics"],
    kinds={"postgres", "python"},
    tags={"domain": "sales"},
    group_name="warehouse",
    description="Orders, cleaned",
    freshness_policy=dg.FreshnessPolicy.time_window(fail_window=timedelta(hours=24)),
)
def orders() -> dg.MaterializeResult:
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": 3,
            "dagster/column_schema": dg.TableSchema(
                columns=[
                    dg.TableColumn("id", "int"),
                    dg.TableColumn("amount", "float"),
                ]
            ),
        }
    )


@dg.asset(
    key_prefix=["warehouse"],
    deps=[orders],
    owners=["team:analytics"],
    kinds={"postgres"},
    group_name="warehouse",
    freshness_policy=dg.FreshnessPolicy.cron(
        deadline_cron="0 6 * * *", lower_bound_delta=timedelta(hours=6)
    ),
)
def daily_revenue() -> dg.MaterializeResult:
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": 1,
            "dagster/column_lineage": dg.TableColumnLineage(
                deps_by_column={
                    "revenue": [dg.TableColumnDep(asset_key=orders.key, column_name="amount")]
                }
            ),
        }
    )


@dg.asset(
    key_prefix=["warehouse"],
    # Declared nowhere: Dagster makes an auto-created stub of it.
    deps=[dg.AssetKey(["vendor", "fx_rates"])],
    group_name="warehouse",
)
def revenue_in_eur() -> None:
    pass


@dg.asset_check(asset=orders, description="no order without an id")
def orders_have_ids() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True, metadata={"null_ids": 0})


@dg.asset_check(asset=daily_revenue, blocking=False)
def revenue_is_positive() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=False, severity=dg.AssetCheckSeverity.WARN, metadata={"negative_days": 2}
    )


@dg.op
def fetch_rates() -> dict[str, float]:
    return {"EUR": 1.1}


@dg.op
def convert(rates: dict[str, float]) -> float:
    raise ValueError(f"no rate for GBP in {sorted(rates)}")


@dg.op
def publish(amount: float) -> None:
    print(amount)


@dg.job(tags={"team": "finance"})
def fx_job() -> None:
    publish(convert(fetch_rates()))


@dg.op(retry_policy=dg.RetryPolicy(max_retries=2))
def flaky(context) -> int:  # type: ignore[no-untyped-def]  # Dagster refuses a string hint
    if context.retry_number == 0:
        raise ConnectionError("the rates API dropped the connection")
    return context.retry_number


@dg.op
def settle(attempts: int) -> None:
    print(attempts)


@dg.job
def retry_job() -> None:
    settle(flaky())


warehouse_job = dg.define_asset_job(
    "warehouse_job",
    selection=dg.AssetSelection.groups("warehouse"),
    description="Rebuild the warehouse",
    tags={"team": "analytics"},
)

warehouse_daily = dg.ScheduleDefinition(
    name="warehouse_daily",
    job=warehouse_job,
    cron_schedule="0 5 * * *",
    execution_timezone="Europe/Berlin",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)


@dg.op
def archive_orders() -> None:
    pass


# Owned through its tags (an owner and Dagster's own owner tag), on a schedule that is stopped:
# shown with its cron, but not active. Never run by the estate.
@dg.job(tags={"owner": "bob@example.com", "dagster/owner": "team:archive"})
def archive_job() -> None:
    archive_orders()


archive_nightly = dg.ScheduleDefinition(
    name="archive_nightly",
    job=archive_job,
    cron_schedule="0 2 * * *",
    default_status=dg.DefaultScheduleStatus.STOPPED,
)


@dg.sensor(job=fx_job, minimum_interval_seconds=300)
def rates_landed() -> dg.SkipReason:
    return dg.SkipReason("no new rates")


defs = dg.Definitions(
    assets=[RAW_ORDERS, orders, daily_revenue, revenue_in_eur],
    asset_checks=[orders_have_ids, revenue_is_positive],
    jobs=[fx_job, retry_job, warehouse_job, archive_job],
    schedules=[warehouse_daily, archive_nightly],
    sensors=[rates_landed],
)
