"""A real Dagster webserver for the test session, with the estate run once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.peers.dagster import DagsterServer


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
