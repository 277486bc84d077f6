"""What the Prefect tests share: a fault proxy in front of the real server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.peers.prefect import PrefectServer
from tests.peers.proxy import FaultProxy


@pytest.fixture
def proxy(prefect_server: PrefectServer) -> Iterator[FaultProxy]:
    p = FaultProxy(prefect_server.root)
    yield p
    p.close()
