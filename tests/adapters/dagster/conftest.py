"""What the Dagster tests share: a fault proxy in front of the real webserver."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.peers.dagster import DagsterServer
from tests.peers.proxy import FaultProxy


@pytest.fixture
def proxy(dagster_server: DagsterServer) -> Iterator[FaultProxy]:
    p = FaultProxy(dagster_server.root)
    yield p
    p.close()
