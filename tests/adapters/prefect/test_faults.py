"""Faults between Tempox and a real Prefect server, injected by a forwarding proxy: the error
names the problem, is recorded on the source, other sources still sync, and the next sync
recovers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from catalog.config import Settings, parse_settings
from catalog.store import tables as t
from catalog.store.store import Store
from catalog.sync import sync_sources
from catalog.sync_types import SyncResult, SyncStatus
from tests.peers.prefect import PrefectServer
from tests.peers.proxy import FaultProxy

pytestmark = [pytest.mark.peers, pytest.mark.xdist_group("peers")]
KEY_ENV = "TEMPOX_TEST_PREFECT_KEY"
AUTH_ENV = "TEMPOX_TEST_PREFECT_AUTH"
AUTH_STRING = "tempox:right-horse-battery"
SYNTHETIC = {"kind": "synthetic", "pipelines": 2, "tasks_per_pipeline": 2, "runs_per_pipeline": 3}
URL = r"http://127\.0\.0\.1:\d+/api"


@pytest.fixture(scope="module")
def secured_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrefectServer]:
    """A second, empty Prefect server that demands ``AUTH_STRING`` as HTTP basic auth
    (``PREFECT_SERVER_API_AUTH_STRING``): it answers 401 to anything else."""
    server = PrefectServer.start(tmp_path_factory.mktemp("prefect-auth"), auth_string=AUTH_STRING)
    try:
        yield server
    finally:
        server.stop()


def settings(url: str, **options: Any) -> Settings:
    prefect = {"kind": "prefect", "api_url": url, "timeout": "2s"} | options
    return parse_settings({"sources": {"prefect": prefect, "synthetic": SYNTHETIC}}, file="t.toml")


def sync_both(store: Store, settings: Settings) -> tuple[SyncResult, SyncResult]:
    prefect, synthetic = sync_sources(store, settings)
    assert synthetic.status is SyncStatus.OK, synthetic.error  # never held up by Prefect
    return prefect, synthetic


def run_ids(store: Store) -> set[str]:
    with store.session() as s:
        return set(
            s.scalars(
                select(t.Run.external_id)
                .join(t.Source, t.Source.id == t.Run.source_id)  # type: ignore[arg-type]
                .where(t.Source.name == "prefect")
            )
        )


def task_run_ids(store: Store) -> set[tuple[str, str]]:
    """(flow run id, task run id) of every task run attempt of the Prefect source."""
    with store.session() as s:
        return {
            (run, task_run)
            for run, task_run in s.execute(
                select(t.Run.external_id, t.TaskRun.external_id)
                .join(t.Run, t.Run.id == t.TaskRun.run_id)  # type: ignore[arg-type]
                .join(t.Source, t.Source.id == t.Run.source_id)  # type: ignore[arg-type]
                .where(t.Source.name == "prefect")
            )
        }


def api_run_ids(pf: PrefectServer) -> set[str]:
    now = datetime.now(UTC)
    return {
        r["id"]
        for r in pf.flow_runs()
        if r["state_type"] != "SCHEDULED" or datetime.fromisoformat(r["expected_start_time"]) <= now
    }


def assert_recovers(store: Store, pf: PrefectServer, config: Settings) -> None:
    recovered, _ = sync_both(store, config)
    assert recovered.status is SyncStatus.OK, recovered.error
    assert run_ids(store) == api_run_ids(pf)
    [state] = [s for s in store.read_sources_with_state() if s.name == "prefect"]
    assert (state.outcome, state.error) == ("ok", None)


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("down", rf"^cannot reach Prefect at {URL}: connection refused \(POST /flows/filter\)$"),
        (
            "error",
            rf"^Prefect at {URL} answered POST /flows/filter with 500 Internal Server Error: "
            r"Internal Server Error$",
        ),
        ("slow", rf"^Prefect at {URL} did not answer POST /flows/filter within 2s \(timeout\)$"),
        (
            "garbage",
            rf"^Prefect at {URL} sent an answer to POST /flows/filter that is not the JSON its "
            "API documents",
        ),
    ],
)
def test_a_fault_is_recorded_and_the_next_sync_recovers(
    store: Store, prefect_server: PrefectServer, proxy: FaultProxy, mode: Any, expected: str
) -> None:
    config = settings(f"{proxy.url}/api")
    proxy.set(mode, delay=4, only="/api/")
    failed, _ = sync_both(store, config)
    assert failed.status is SyncStatus.FAILED
    assert failed.error is not None
    assert re.search(expected, failed.error), failed.error
    [state] = [s for s in store.read_sources_with_state() if s.name == "prefect"]
    assert (state.outcome, state.error) == ("failed", failed.error)
    proxy.set("pass")
    assert_recovers(store, prefect_server, config)


def test_a_sync_cut_off_halfway_leaves_whole_batches_and_resumes(
    store: Store, prefect_server: PrefectServer, proxy: FaultProxy
) -> None:
    config = settings(f"{proxy.url}/api")
    # Flows and deployments pass; Prefect fails while the task runs of the flow runs are read.
    proxy.set("error", only="/api/task_runs/filter")
    failed, _ = sync_both(store, config)
    assert failed.status is SyncStatus.FAILED
    assert failed.error is not None
    assert "POST /task_runs/filter" in failed.error, failed.error
    assert failed.batches >= 1  # the flows were committed
    with store.session() as s:
        assert set(s.scalars(select(t.Pipeline.external_id))) >= {"tempox-etl", "tempox-parent"}
    # A flow run comes with its task runs in one batch: none of them got in without the other.
    assert run_ids(store) == {run for run, _ in task_run_ids(store)}
    assert task_run_ids(store) == set()
    cursor = store.read_cursor(store.source_id("prefect"))
    assert (cursor or {}).get("since") is None  # the watermark moves only when a sync completes
    proxy.set("pass")
    assert_recovers(store, prefect_server, config)
    expected = {(tr["flow_run_id"], tr["id"]) for tr in prefect_server.task_runs()}
    assert task_run_ids(store) == expected


def test_a_missing_api_key_variable_is_named(
    store: Store, prefect_server: PrefectServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    config = settings(prefect_server.url, api_key_env=KEY_ENV)
    failed, _ = sync_both(store, config)
    assert failed.status is SyncStatus.FAILED
    assert failed.error is not None
    assert f"environment variable {KEY_ENV} is not set" in failed.error, failed.error
    # The open-source server ignores API keys: with the variable set, the key is sent and the
    # sync goes through.
    monkeypatch.setenv(KEY_ENV, "pnu_not-checked-by-the-oss-server")
    assert_recovers(store, prefect_server, config)


@pytest.mark.parametrize(
    ("sign_in", "variable"),
    [
        pytest.param({"auth_string_env": AUTH_ENV}, "tempox:wrong-password", id="wrong"),
        pytest.param({}, None, id="none"),
        pytest.param({"api_key_env": KEY_ENV}, "pnu_a-key-where-basic-auth-is-wanted", id="key"),
    ],
)
def test_refused_credentials_are_named_and_the_right_ones_recover(
    store: Store,
    secured_server: PrefectServer,
    monkeypatch: pytest.MonkeyPatch,
    sign_in: dict[str, str],
    variable: str | None,
) -> None:
    """A server started with PREFECT_SERVER_API_AUTH_STRING refuses a wrong auth string, no
    credentials and an API key with 401; the error says so and names the keys to fix."""
    for name in (AUTH_ENV, KEY_ENV):
        monkeypatch.delenv(name, raising=False)
    if variable is not None:
        monkeypatch.setenv(next(iter(sign_in.values())), variable)
    failed, _ = sync_both(store, settings(secured_server.url, **sign_in))
    assert failed.status is SyncStatus.FAILED
    assert failed.error == (
        f"Prefect at {secured_server.url} refused POST /flows/filter (401): the credentials "
        "(api_key_env or auth_string_env) are missing, wrong or lack access to this workspace"
    )
    [state] = [s for s in store.read_sources_with_state() if s.name == "prefect"]
    assert (state.outcome, state.error) == ("failed", failed.error)
    # The right auth string lets the next sync through.
    monkeypatch.setenv(AUTH_ENV, AUTH_STRING)
    assert_recovers(store, secured_server, settings(secured_server.url, auth_string_env=AUTH_ENV))
