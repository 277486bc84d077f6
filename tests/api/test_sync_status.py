"""Sync status is always true: every sync outcome (success, failure, nothing new) shows in the
very next answer to the exact same query (same document, same variables) through a real HTTP
server with its response cache on, although none of them moves the data version."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY

from catalog.config import Settings, parse_settings
from catalog.store.store import Store
from catalog.sync import sync_sources
from catalog.sync_types import SyncStatus
from tests.peers.prefect import PrefectServer
from tests.peers.processes import free_port
from tests.peers.proxy import FaultProxy
from tests.peers.tempox import serve

SOURCES = (
    "query SourcesNow($first: Int) { sources(first: $first) { nodes { name "
    "sync { outcome lastSuccessAt lastFailureAt lastError records } } } }"
)
VARIABLES = {"first": 10}
# The same list without sync state: it must stay cached across syncs that write nothing.
NAMES = "query SourceNames($first: Int) { sources(first: $first) { nodes { name kind } } }"
SYNTHETIC = {"kind": "synthetic", "pipelines": 2, "tasks_per_pipeline": 2, "runs_per_pipeline": 2}


def closed_port() -> int:
    """A port nothing listens on: a stopped orchestrator."""
    port = free_port()
    with socket.socket() as s:  # still free: connecting is refused
        assert s.connect_ex(("127.0.0.1", port)) != 0
    return port


def settings(prefect_url: str) -> Settings:
    prefect = {"kind": "prefect", "api_url": prefect_url, "timeout": "2s", "retries": 0}
    return parse_settings({"sources": {"lake": SYNTHETIC, "prefect": prefect}}, file="t.toml")


class Poller:
    """A dashboard: the same document and variables, again and again, over HTTP."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = httpx.Client(timeout=30)

    def sync_state(self) -> dict[str, dict[str, Any]]:
        body = self.post(SOURCES)
        return {n["name"]: n["sync"] for n in body["data"]["sources"]["nodes"]}

    def post(self, document: str) -> dict[str, Any]:
        response = self.http.post(
            self.url + "/graphql", json={"query": document, "variables": VARIABLES}
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        assert "errors" not in body, body
        return body

    def data_version(self) -> int:
        version: int = self.http.get(self.url + "/healthz").json()["dataVersion"]
        return version

    def close(self) -> None:
        self.http.close()


@pytest.fixture
def poller(store: Store) -> Iterator[Poller]:
    with serve(store) as url:
        p = Poller(url)
        yield p
        p.close()


def at(text: str | None) -> datetime:
    assert text is not None
    return datetime.fromisoformat(text)


def test_success_failure_and_nothing_new_show_at_the_next_identical_query(
    store: Store, poller: Poller
) -> None:
    config = settings(f"http://127.0.0.1:{closed_port()}/api")
    lake, prefect = sync_sources(store, config)
    assert lake.status is SyncStatus.OK
    assert prefect.status is SyncStatus.FAILED
    first = poller.sync_state()
    assert first["lake"]["outcome"] == "OK"
    assert first["lake"]["records"] > 0
    assert first["prefect"]["outcome"] == "FAILED"
    assert "refused" in first["prefect"]["lastError"].lower()
    names = poller.post(NAMES)
    version = poller.data_version()

    # Nothing new in the lake, the Prefect server still down: no data changes...
    lake, prefect = sync_sources(store, config)
    assert lake.status is SyncStatus.OK
    assert prefect.status is SyncStatus.FAILED
    assert poller.data_version() == version
    # ...but both attempts show, at once, to the very same query.
    second = poller.sync_state()
    assert at(second["lake"]["lastSuccessAt"]) > at(first["lake"]["lastSuccessAt"])
    assert at(second["prefect"]["lastFailureAt"]) > at(first["prefect"]["lastFailureAt"])
    assert second["prefect"]["outcome"] == "FAILED"
    assert poller.post(NAMES) == names


def test_answers_without_sync_state_stay_cached_across_empty_syncs(
    store: Store, poller: Poller
) -> None:
    config = settings(f"http://127.0.0.1:{closed_port()}/api")
    sync_sources(store, config)
    poller.post(NAMES)
    poller.sync_state()
    hits = cache_hits()
    sync_sources(store, config)
    poller.post(NAMES)  # still cached: the data did not change
    poller.sync_state()  # executed again: the sync state did
    assert cache_hits() == hits + 1


def cache_hits() -> float:
    return REGISTRY.get_sample_value("tempox_graphql_cache_lookups_total", {"result": "hit"}) or 0


@pytest.fixture(scope="module")
def prefect(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultProxy]:
    """A real (empty) Prefect server behind a fault proxy."""
    server = PrefectServer.start(tmp_path_factory.mktemp("prefect"))
    proxy = FaultProxy(server.root)
    try:
        yield proxy
    finally:
        proxy.close()
        server.stop()


@pytest.mark.peers
@pytest.mark.xdist_group("peers")
def test_a_real_orchestrator_going_down_and_back_shows_at_the_next_identical_query(
    store: Store, poller: Poller, prefect: FaultProxy
) -> None:
    prefect.set("pass")
    config = settings(f"{prefect.url}/api")
    sync_sources(store, config, ["prefect"])
    ok = poller.sync_state()["prefect"]
    assert ok["outcome"] == "OK"
    assert ok["lastError"] is None
    assert poller.sync_state()["prefect"] == ok  # answered from the cache
    version = poller.data_version()

    prefect.set("down")
    [result] = sync_sources(store, config, ["prefect"])
    assert result.status is SyncStatus.FAILED
    down = poller.sync_state()["prefect"]
    assert down["outcome"] == "FAILED"
    assert down["lastError"] == result.error
    assert down["lastSuccessAt"] == ok["lastSuccessAt"]

    prefect.set("pass")
    [result] = sync_sources(store, config, ["prefect"])
    assert result.status is SyncStatus.OK
    back = poller.sync_state()["prefect"]
    assert back["outcome"] == "OK"
    assert back["lastError"] is None
    assert at(back["lastSuccessAt"]) > at(down["lastFailureAt"]) > at(ok["lastSuccessAt"])
    assert poller.data_version() == version  # none of this changed the catalog's data
