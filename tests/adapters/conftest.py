"""Real orchestrators for the test session, each started the first time a test asks for it
and stopped at the end: Airflow, Prefect and Dagster with their test estates run once (see
:mod:`tests.peers.estates`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.peers.airflow import AirflowStack
from tests.peers.dagster import DagsterServer
from tests.peers.estates import airflow_estate, dagster_estate, prefect_estate
from tests.peers.prefect import PrefectServer


@pytest.fixture(scope="session")
def airflow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AirflowStack]:
    stack = airflow_estate(tmp_path_factory.mktemp("airflow"))
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrefectServer]:
    server = prefect_estate(tmp_path_factory.mktemp("prefect"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def dagster_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DagsterServer]:
    server = dagster_estate(tmp_path_factory.mktemp("dagster"))
    try:
        yield server
    finally:
        server.stop()
