"""A real Prefect 3 server for the test session, with every test flow run once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.peers.prefect import PrefectServer


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
