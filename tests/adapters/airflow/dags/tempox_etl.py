"""Succeeds: extract fans out to a mapped transform, then load. Scheduled daily (no catch-up)."""

from datetime import datetime

from airflow.sdk import dag, task


@dag(
    schedule="@daily",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    description="Orders ETL that always succeeds",
    tags=["tempox", "etl"],
    default_args={"owner": "data-eng"},
)
def tempox_etl():
    @task
    def extract() -> list[int]:
        return [1, 2, 3]

    @task
    def transform(x: int) -> int:
        return x * 10

    @task
    def load(values: list[int]) -> int:
        return sum(values)

    load(transform.expand(x=extract()))


tempox_etl()
