"""The test estates, running: each orchestrator started with its test definitions and run once.

Shared by the session fixtures of ``tests/adapters`` and by the demo recorder
(``tests/api/demo/record.py``), so the demo replays the estate the adapter tests check.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from tests.peers.airflow import AirflowStack
from tests.peers.dagster import DagsterServer
from tests.peers.prefect import PrefectServer

DAGS = Path(__file__).resolve().parents[1] / "adapters" / "airflow" / "dags"
DAG_IDS = (
    "tempox_etl",
    "tempox_failing",
    "tempox_retries",
    "tempox_producer",
    "tempox_consumer",
    "tempox_slow",
)
Server = TypeVar("Server", AirflowStack, PrefectServer, DagsterServer)


def _with_estate(server: Server, run: Callable[[Server], object]) -> Server:
    """``server`` once ``run`` has run its estate; stopped if that fails."""
    try:
        run(server)
    except BaseException:
        server.stop()
        raise
    return server


def _run_airflow_estate(stack: AirflowStack) -> None:
    manual = ("tempox_etl", "tempox_failing", "tempox_retries", "tempox_producer")
    stack.wait_for_runs([(dag_id, stack.trigger(dag_id)) for dag_id in manual])
    stack.wait_for_run_of("tempox_consumer")
    stack.wait_quiet()


def airflow_estate(home: Path) -> AirflowStack:
    """Airflow with a finished run of every DAG: tempox_etl twice (its scheduled run and a
    manual one), the consumer once, triggered by the producer's asset event."""
    stack = AirflowStack.start(home, DAGS, expect_dags=len(DAG_IDS))
    return _with_estate(stack, _run_airflow_estate)


def prefect_estate(home: Path) -> PrefectServer:
    """Prefect with one run of every flow of ``flows/estate.py``: tempox-etl, tempox-failing
    (fails in ``explode``), tempox-retries (``flaky`` fails once, then succeeds), tempox-parent
    (two tempox-child subflow runs) and tempox-assets (two materialisations, one failed one)."""
    return _with_estate(PrefectServer.start(home), lambda server: server.run_flows())


def dagster_estate(home: Path) -> DagsterServer:
    """Dagster with the definitions of ``defs/estate.py`` loaded and run once: one run
    materialising every asset (``revenue_is_positive`` fails with severity WARN, the run
    succeeds), one failed fx_job run (``convert`` raises, ``publish`` never starts), one
    retry_job run (``flaky`` fails once, its retry succeeds), and a run-less materialisation
    of ``lake/raw/orders`` (row count 10) reported from outside."""
    return _with_estate(DagsterServer.start(home), DagsterServer.run_estate)
