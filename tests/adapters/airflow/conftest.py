"""A real Airflow 3 stack for the test session, with every test DAG run once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.peers.airflow import AirflowStack

DAGS = Path(__file__).parent / "dags"
DAG_IDS = (
    "tempox_etl",
    "tempox_failing",
    "tempox_retries",
    "tempox_producer",
    "tempox_consumer",
    "tempox_slow",
)


@pytest.fixture(scope="session")
def airflow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AirflowStack]:
    """Airflow with a finished run of every DAG: tempox_etl twice (its scheduled run and a
    manual one), the consumer once, triggered by the producer's asset event."""
    stack = AirflowStack.start(tmp_path_factory.mktemp("airflow"), DAGS, expect_dags=len(DAG_IDS))
    try:
        manual = ("tempox_etl", "tempox_failing", "tempox_retries", "tempox_producer")
        stack.wait_for_runs([(dag_id, stack.trigger(dag_id)) for dag_id in manual])
        stack.wait_for_run_of("tempox_consumer")
        stack.wait_quiet()
        yield stack
    finally:
        stack.stop()
