"""Real orchestrators for the test session, each started the first time a test asks for it
and stopped at the end: Airflow, Prefect and Dagster with their test estates run once (see
:mod:`tests.peers.estates`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TypeVar

import pytest

from tests.peers.airflow import AirflowStack
from tests.peers.dagster import DagsterServer
from tests.peers.estates import airflow_estate, dagster_estate, prefect_estate
from tests.peers.prefect import PrefectServer

Server = TypeVar("Server", AirflowStack, PrefectServer, DagsterServer)


def _until_the_end(server: Server) -> Iterator[Server]:
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def airflow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AirflowStack]:
    yield from _until_the_end(airflow_estate(tmp_path_factory.mktemp("airflow")))


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrefectServer]:
    yield from _until_the_end(prefect_estate(tmp_path_factory.mktemp("prefect")))


@pytest.fixture(scope="session")
def dagster_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DagsterServer]:
    yield from _until_the_end(dagster_estate(tmp_path_factory.mktemp("dagster")))
