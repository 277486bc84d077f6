"""Flows the Prefect adapter tests run against a real Prefect server.

``python estate.py`` (with PREFECT_API_URL set, from the server's own venv) runs each flow of
``FLOWS`` once; ``python estate.py etl failing`` runs only those, and ``python estate.py slow``
one of the flows left out of the default (they take seconds, for tests that sync while they
run). A
flow that fails is expected to: its failure is caught here so the others still run.
"""

from __future__ import annotations

import sys
import time

from prefect import flow, get_run_logger, tags, task
from prefect.assets import Asset, AssetProperties, add_asset_metadata, materialize
from prefect.runtime import task_run

RAW_ORDERS = "postgres://warehouse:5432/analytics/public/raw_orders"
# Declared with properties: its owners travel on every event that names it.
ORDERS = Asset(
    key="postgres://warehouse:5432/analytics/public/orders",
    properties=AssetProperties(
        name="Orders", description="Orders, cleaned", owners=["alice@example.com", "analytics"]
    ),
)
REPORT = Asset(key="s3://lake/reports/orders_daily")
BROKEN = Asset(key="s3://lake/reports/orders_broken")
# Dagster's warehouse/daily_revenue, as the cross-tool test's asset rule names it.
DAILY_REVENUE = "postgres://warehouse:5432/daily_revenue"
REVENUE_REPORT = Asset(key="s3://reports/revenue_report")


@task
def extract() -> list[int]:
    return [1, 2, 3]


@task
def transform(rows: list[int]) -> list[int]:
    return [r * 10 for r in rows]


@task
def load(rows: list[int], suffix: str) -> int:
    get_run_logger().info("loaded %d rows into %s", len(rows), suffix)
    return len(rows)


@flow(name="tempox-etl")
def etl(suffix: str = "daily") -> int:
    return load(transform(extract()), suffix)


@task
def explode() -> None:
    raise ValueError("orders feed is empty")


@flow(name="tempox-failing")
def failing() -> None:
    extract()
    explode()


@task(retries=2, retry_delay_seconds=0)
def flaky() -> str:
    if task_run.run_count < 2:
        raise ConnectionError(f"connection reset (attempt {task_run.run_count})")
    return "ok"


@flow(name="tempox-retries")
def retries() -> str:
    return flaky()


@flow(name="tempox-child")
def child(n: int) -> int:
    return transform([n])[0]


@flow(name="tempox-parent")
def parent() -> int:
    return child(1) + child(2)


@materialize(ORDERS, asset_deps=[RAW_ORDERS])
def build_orders() -> list[int]:
    add_asset_metadata(ORDERS, {"row_count": 3, "columns": ["id", "amount"]})
    return [1, 2, 3]


@materialize(REPORT)
def build_report(orders: list[int]) -> None:
    add_asset_metadata(REPORT, {"row_count": len(orders)})


@materialize(BROKEN, asset_deps=[ORDERS])
def build_broken() -> None:
    raise RuntimeError("report bucket is read-only")


@materialize(REVENUE_REPORT, asset_deps=[DAILY_REVENUE])
def build_revenue_report() -> None:
    add_asset_metadata(REVENUE_REPORT, {"row_count": 12})


@flow(name="tempox-revenue-report")
def revenue_report() -> None:
    build_revenue_report()


@flow(name="tempox-assets")
def assets() -> None:
    orders = build_orders()
    build_report(orders)
    build_broken()


@task
def wait(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


@flow(name="tempox-slow")
def slow(seconds: float = 8.0) -> float:
    return wait(seconds)


@flow(name="tempox-slow-parent")
def slow_parent(seconds: float = 8.0) -> int:
    wait(seconds)
    return child(3)


@task
def refresh_aggregates(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


@flow(name="tempox-nightly-aggregates")
def nightly_aggregates(seconds: float) -> float:
    extract()
    return refresh_aggregates(seconds)


# Ten nights of the aggregates: steady at half a second, then longer every night (the demo's
# "which tasks are getting slower").
NIGHTLY_SECONDS = (0.5, 0.5, 0.5, 0.5, 0.5, 0.8, 0.9, 1.0, 1.1, 1.2)


def nightly_series() -> None:
    for seconds in NIGHTLY_SECONDS:
        nightly_aggregates(seconds)


FLOWS = {"etl": etl, "failing": failing, "retries": retries, "parent": parent, "assets": assets}
# Run only when named: slow ones, the cross-tool test's report on Dagster's table, and the
# demo's nightly series.
ON_REQUEST = {
    "slow": slow,
    "slow-parent": slow_parent,
    "revenue-report": revenue_report,
    "nightly": nightly_series,
}


def main(names: list[str]) -> None:
    for name in names or list(FLOWS):
        with tags("tempox", name):
            try:
                (FLOWS | ON_REQUEST)[name]()
            except Exception as exc:  # the failing flows fail on purpose
                print(f"{name}: {type(exc).__name__}: {exc}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
