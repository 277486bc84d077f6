"""Faults between Tempox and a real dagster-webserver, injected by a forwarding proxy: the error
names the problem, is recorded on the source, other sources still sync, and the next sync
recovers."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from typing import Any

import pytest

from catalog.adapter_pool import AdapterPool
from catalog.config import Settings, parse_settings
from catalog.store.store import Store
from catalog.sync import sync_source, sync_sources
from catalog.sync_types import SyncResult, SyncStatus
from tests.adapters.views import catalog_attempts, catalog_runs
from tests.peers.dagster import DagsterServer
from tests.peers.proxy import FaultProxy

pytestmark = [pytest.mark.peers, pytest.mark.xdist_group("peers")]
TTL = timedelta(minutes=5)
SYNTHETIC = {"kind": "synthetic", "pipelines": 2, "tasks_per_pipeline": 2, "runs_per_pipeline": 3}
URL = r"http://127\.0\.0\.1:\d+"
RUNS = "query { runsOrError { ... on Runs { results { runId } } } }"


def settings(url: str, **options: Any) -> Settings:
    dagster = {"kind": "dagster", "url": url, "timeout": "2s"} | options
    return parse_settings({"sources": {"dagster": dagster, "synthetic": SYNTHETIC}}, file="t.toml")


def sync_both(store: Store, config: Settings) -> tuple[SyncResult, SyncResult]:
    dagster, synthetic = sync_sources(store, config)
    assert synthetic.status is SyncStatus.OK, synthetic.error  # never held up by Dagster
    return dagster, synthetic


def dagster_runs(store: Store) -> set[str]:
    dagster = store.source_id("dagster")
    return {i for i, r in catalog_runs(store).items() if r.source_id == dagster}


def api_runs(ds: DagsterServer) -> set[str]:
    return {r["runId"] for r in ds.graphql(RUNS)["runsOrError"]["results"]}


def assert_fails_then_recovers(
    store: Store, ds: DagsterServer, proxy: FaultProxy, config: Settings, expected: str
) -> None:
    failed, _ = sync_both(store, config)
    assert failed.status is SyncStatus.FAILED
    assert failed.error is not None
    assert re.search(expected, failed.error), failed.error
    [state] = [s for s in store.read_sources_with_state() if s.name == "dagster"]
    assert (state.outcome, state.error) == ("failed", failed.error)
    proxy.set("pass")
    recovered, _ = sync_both(store, config)
    assert recovered.status is SyncStatus.OK, recovered.error
    assert api_runs(ds) <= set(catalog_runs(store))
    [state] = [s for s in store.read_sources_with_state() if s.name == "dagster"]
    assert (state.outcome, state.error) == ("ok", None)


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("down", rf"^cannot reach Dagster at {URL}: connection refused \(workspaceOrError\)$"),
        (
            "error",
            rf"^Dagster at {URL} answered workspaceOrError with 500 Internal Server Error: "
            r"Internal Server Error$",
        ),
        ("slow", rf"^Dagster at {URL} did not answer workspaceOrError within 2s \(timeout\)$"),
        (
            "garbage",
            rf"^Dagster at {URL} sent an answer to workspaceOrError that is not JSON",
        ),
    ],
)
def test_a_fault_is_recorded_and_the_next_sync_recovers(
    store: Store, dagster_server: DagsterServer, proxy: FaultProxy, mode: Any, expected: str
) -> None:
    proxy.set(mode, delay=4, only="/graphql")
    assert_fails_then_recovers(store, dagster_server, proxy, settings(proxy.url), expected)


def test_a_source_that_drips_ends_by_the_sync_deadline(
    store: Store, dagster_server: DagsterServer, proxy: FaultProxy
) -> None:
    # One byte every second: each read gets a byte well within the 2s request timeout, so only
    # the sync's own deadline ends it.
    proxy.set("drip", delay=1.0, only="/graphql")
    config = settings(proxy.url, deadline="4s")
    began = time.monotonic()
    expected = (
        r"^did not finish within 4s \(the sync deadline, \[sync\] deadline\); the next sync "
        r"resumes after the last committed batch$"
    )
    assert_fails_then_recovers(store, dagster_server, proxy, config, expected)
    assert time.monotonic() - began < 90  # two syncs; the first cut short at 4 s


def test_graphql_errors_in_the_body_name_the_query_and_dagsters_message(
    store: Store, dagster_server: DagsterServer, proxy: FaultProxy
) -> None:
    # The real server answers a query it cannot validate with errors in the body: here the
    # runs query asks for a field Dagster does not have.
    def misspell(body: bytes) -> bytes:
        return body.replace(b"stepKeysToExecute", b"stepKeysToExecut")

    proxy.set("rewrite", rewrite=misspell)
    expected = (
        rf"^Dagster at {URL}: runsOrError failed: Cannot query field 'stepKeysToExecut' "
        r"on type 'Run'\. Did you mean 'stepKeysToExecute'\?$"
    )
    assert_fails_then_recovers(store, dagster_server, proxy, settings(proxy.url), expected)


def test_an_exception_inside_dagster_is_named(
    store: Store, dagster_server: DagsterServer, proxy: FaultProxy
) -> None:
    # A watermark Dagster cannot turn into a date: resolving runsOrError raises inside the
    # server, which answers 500 with the exception as a GraphQL error.
    config = settings(proxy.url)
    first, _ = sync_both(store, config)
    assert first.status is SyncStatus.OK, first.error

    def far_future(body: bytes) -> bytes:
        return re.sub(rb'"updatedAfter": ?[0-9.e+]+', b'"updatedAfter": 1e15', body)

    proxy.set("rewrite", rewrite=far_future)
    expected = rf"^Dagster at {URL}: runsOrError failed \(500\): year \d+ is out of range$"
    assert_fails_then_recovers(store, dagster_server, proxy, config, expected)


def test_a_sync_cut_off_halfway_keeps_whole_batches_and_resumes(
    store: Store, dagster_server: DagsterServer, proxy: FaultProxy
) -> None:
    ds = dagster_server
    config = settings(proxy.url)

    # The definitions and the runs pass; Dagster fails when the materialisations are read.
    def break_assets(body: bytes) -> bytes:
        return body.replace(b"latestMaterializationTimestamp", b"latestMaterialisation")

    proxy.set("rewrite", rewrite=break_assets)
    failed, _ = sync_both(store, config)
    assert failed.status is SyncStatus.FAILED
    assert failed.error is not None
    assert "assetsOrError failed" in failed.error, failed.error
    assert failed.batches >= 2, failed
    runs = dagster_runs(store)
    assert runs == api_runs(ds)
    # A run comes with its steps in one batch: none got in without the other.
    assert {a[0] for a in catalog_attempts(store)} & runs == runs
    cursor = store.read_cursor(store.source_id("dagster"))
    assert (cursor or {}).get("since") is None  # the watermark moves only when a sync completes
    proxy.set("pass")
    recovered, _ = sync_both(store, config)
    assert recovered.status is SyncStatus.OK, recovered.error


def test_a_kept_connection_that_fails_is_replaced_and_the_sync_goes_on(
    store: Store, dagster_server: DagsterServer, proxy: FaultProxy
) -> None:
    source = settings(proxy.url).sources["dagster"]
    pool = AdapterPool()  # as the server's scheduler keeps adapters between syncs
    try:
        first = sync_source(store, source, lease_ttl=TTL, adapters=pool)
        assert first.status is SyncStatus.OK, first.error
        kept, _ = pool.take(source)
        pool.give_back(source, kept, healthy=True)
        # The server restarted behind a gateway, which fails the first request it sees: the
        # kept adapter is given up and the sync runs once more on a new one.
        proxy.set("error", only="/graphql", status=502, body=b"Bad Gateway", times=1)
        second = sync_source(store, source, lease_ttl=TTL, adapters=pool)
        assert second.status is SyncStatus.OK, second.error
        now, reused = pool.take(source)
        assert reused
        assert now is not kept
        pool.give_back(source, now, healthy=True)
    finally:
        pool.close()
    assert api_runs(dagster_server) <= set(catalog_runs(store))
