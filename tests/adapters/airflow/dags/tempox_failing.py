"""Fails: transform raises, so load is upstream_failed; audit runs beside it and succeeds."""

from datetime import datetime

from airflow.sdk import dag, task


@dag(
    schedule=None,
    start_date=datetime(2026, 1, 1),
    tags=["tempox"],
    default_args={"owner": "analytics"},
)
def tempox_failing():
    @task
    def extract() -> int:
        return 1

    @task
    def transform(value: int) -> int:
        row: dict[str, int] = {}
        try:
            return row["customer_id"]
        except KeyError:
            # Raised while handling another: the error to report is this one, not the KeyError.
            raise ValueError(f"bad row {value}: customer_id is null")  # noqa: B904

    @task
    def load(value: int) -> None:
        print(value)

    @task
    def audit(value: int) -> None:
        print("audited", value)

    raw = extract()
    load(transform(raw))
    audit(raw)


tempox_failing()
