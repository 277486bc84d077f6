"""Real orchestrators for the test session, each started the first time a test asks for it
and stopped at the end: Airflow, Prefect and Dagster with their test estates run once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.peers.airflow import AirflowStack
from tests.peers.dagster import DagsterServer
from tests.peers.prefect import PrefectServer

DAGS = Path(__file__).parent / "airflow" / "dags"
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


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrefectServer]:
    """Prefect with one run of every flow of ``flows/estate.py``: tempox-etl, tempox-failing
    (fails in ``explode``), tempox-retries (``flaky`` fails once, then succeeds), tempox-parent
    (two tempox-child subflow runs) and tempox-assets (two materialisations, one failed one)."""
    server = PrefectServer.start(tmp_path_factory.mktemp("prefect"))
    try:
        server.run_flows()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def dagster_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DagsterServer]:
    """Dagster with the definitions of ``defs/estate.py`` loaded and run once: one run
    materialising every asset (``revenue_is_positive`` fails with severity WARN, the run
    succeeds), one failed fx_job run (``convert`` raises, ``publish`` never starts), one
    retry_job run (``flaky`` fails once, its retry succeeds), and a run-less materialisation
    of ``lake/raw/orders`` (row count 10) reported from outside."""
    server = DagsterServer.start(tmp_path_factory.mktemp("dagster"))
    try:
        server.run_estate()
        yield server
    finally:
        server.stop()
