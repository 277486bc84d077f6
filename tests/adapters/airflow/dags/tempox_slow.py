"""Runs for a few seconds, so a sync can see it running and a later one see it finish."""

import time
from datetime import datetime

from airflow.sdk import dag, task


@dag(schedule=None, start_date=datetime(2026, 1, 1), tags=["tempox"])
def tempox_slow():
    @task
    def wait() -> None:
        time.sleep(8)

    @task
    def after() -> None:
        print("done")

    wait() >> after()


tempox_slow()
