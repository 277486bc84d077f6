"""Succeeds on the second try: the first try of flaky fails."""

from datetime import datetime, timedelta

from airflow.sdk import dag, get_current_context, task


@dag(schedule=None, start_date=datetime(2026, 1, 1), tags=["tempox"])
def tempox_retries():
    @task(retries=2, retry_delay=timedelta(seconds=1))
    def flaky() -> str:
        ti = get_current_context()["ti"]
        if ti.try_number < 2:
            raise ConnectionResetError(f"connection reset by peer (try {ti.try_number})")
        return "ok"

    flaky()


tempox_retries()
