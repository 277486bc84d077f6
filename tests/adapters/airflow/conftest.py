"""What the Airflow tests share: the password in the environment, a proxy in front."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.peers.airflow import PASSWORD, PASSWORD_ENV, AirflowStack
from tests.peers.proxy import FaultProxy


@pytest.fixture(autouse=True)
def _password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)


@pytest.fixture
def proxy(airflow: AirflowStack) -> Iterator[FaultProxy]:
    p = FaultProxy(airflow.url)
    yield p
    p.close()
