"""Producers authenticate with their ordinary configuration: openlineage-python's ``api_key``
(what Airflow's OpenLineage provider uses too) sends ``Authorization: Bearer <key>``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import Job, Run, RunEvent, RunState
from openlineage.client.transport.http import HttpConfig, HttpTransport
from sqlalchemy import func, select

from catalog.auth.tokens import Tokens
from catalog.config import AuthSettings
from catalog.service import Catalog
from catalog.store import tables as t
from catalog.store.store import Store
from tests.peers.tempox import serve

RUN_ID = "0193a0b6-2a8e-7c6e-9b1a-3f1c1f0e9a77"


@pytest.fixture
def server(store: Store) -> Iterator[str]:
    with serve(store, AuthSettings(required=True)) as url:
        yield url


def _client(url: str, api_key: str | None) -> OpenLineageClient:
    options: dict[str, object] = {"url": url, "compression": "gzip"}
    if api_key is not None:
        options["auth"] = {"type": "api_key", "apiKey": api_key}
    return OpenLineageClient(transport=HttpTransport(HttpConfig.from_dict(options)))


def _emit(client: OpenLineageClient) -> None:
    job = Job(namespace="producers", name="nightly_export")
    for state, at in ((RunState.START, "10:00:00"), (RunState.COMPLETE, "10:05:00")):
        client.emit(
            RunEvent(eventType=state, eventTime=f"2024-05-01T{at}Z", run=Run(runId=RUN_ID), job=job)
        )


def _runs(store: Store) -> int:
    with store.session() as s:
        return int(s.execute(select(func.count()).select_from(t.Run)).scalar_one())


def test_the_real_client_with_an_api_key_is_let_in(store: Store, server: str) -> None:
    _, key = Tokens(store).create("airflow-ol", ["ingest"], by="cli:test")
    _emit(_client(server, key))
    run = Catalog(store).run_by_external_id("openlineage", RUN_ID)
    assert run is not None
    assert run.status == "success"


@pytest.mark.parametrize(
    ("key", "status"),
    [(None, 401), ("tpx_0123456789ab_" + "A" * 43, 401), ("a read-only token", 403)],
    ids=["no key", "unknown key", "read-only key"],
)
def test_without_a_valid_ingest_key_nothing_is_stored(
    store: Store, server: str, key: str | None, status: int
) -> None:
    if key == "a read-only token":
        _, key = Tokens(store).create("reader", ["read"], by="cli:test")
    with pytest.raises(requests.HTTPError) as refused:
        _emit(_client(server, key))
    assert refused.value.response is not None
    assert refused.value.response.status_code == status
    assert _runs(store) == 0
