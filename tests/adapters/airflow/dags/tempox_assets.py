"""Asset lineage: a producer writes raw orders; a consumer, scheduled on that asset, cleans them.

Triggered with ``{"fail": true}``, the producer fails (the cross-tool test's failed run)."""

from datetime import datetime

from airflow.sdk import Asset, dag, get_current_context, task

# Owners in the assets' extra, the two ways DAG authors write them.
RAW_ORDERS = Asset("s3://lake/raw/orders", extra={"owners": ["team:ingest"]})
CLEAN_ORDERS = Asset(
    "s3://lake/staging/orders_clean", extra={"owner": "alice@example.com, team:analytics"}
)


@dag(schedule=None, start_date=datetime(2026, 1, 1), tags=["tempox", "assets"])
def tempox_producer():
    @task(outlets=[RAW_ORDERS])
    def write_orders() -> None:
        if get_current_context()["dag_run"].conf.get("fail"):
            raise RuntimeError("the orders export came back empty")
        print("wrote raw orders")

    write_orders()


@dag(schedule=[RAW_ORDERS], start_date=datetime(2026, 1, 1), tags=["tempox", "assets"])
def tempox_consumer():
    @task(inlets=[RAW_ORDERS], outlets=[CLEAN_ORDERS])
    def clean_orders() -> None:
        print("cleaned orders")

    clean_orders()


tempox_producer()
tempox_consumer()
