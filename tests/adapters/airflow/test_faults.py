"""Faults between Tempox and a real Airflow, injected by a forwarding proxy: the error names the
problem, is recorded on the source, other sources still sync, and the next sync recovers."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from catalog.adapter_pool import AdapterPool
from catalog.config import Settings, parse_settings
from catalog.store import tables as t
from catalog.store.store import Store
from catalog.sync import sync_source, sync_sources
from catalog.sync_types import SyncResult, SyncStatus
from tests.peers.airflow import PASSWORD, PASSWORD_ENV, USERNAME, AirflowStack
from tests.peers.proxy import FaultProxy

pytestmark = [pytest.mark.peers, pytest.mark.xdist_group("peers")]
TOKEN_ENV = "TEMPOX_TEST_AIRFLOW_TOKEN"
TTL = timedelta(minutes=5)
SYNTHETIC = {"kind": "synthetic", "pipelines": 2, "tasks_per_pipeline": 2, "runs_per_pipeline": 3}


def settings(url: str, **options: Any) -> Settings:
    airflow = {"kind": "airflow", "base_url": url, "username": USERNAME}
    airflow |= {"password_env": PASSWORD_ENV, "timeout": "2s"} | options
    return parse_settings({"sources": {"airflow": airflow, "synthetic": SYNTHETIC}}, file="t.toml")


def sync_both(store: Store, settings: Settings) -> tuple[SyncResult, SyncResult]:
    airflow, synthetic = sync_sources(store, settings)
    assert synthetic.status is SyncStatus.OK, synthetic.error  # never held up by Airflow
    return airflow, synthetic


def run_ids(store: Store) -> set[str]:
    with store.session() as s:
        return {
            r
            for r in s.scalars(
                select(t.Run.external_id)
                .join(t.Source, t.Source.id == t.Run.source_id)  # type: ignore[arg-type]
                .where(t.Source.name == "airflow")
            )
        }


def task_runs(store: Store) -> int:
    with store.session() as s:
        return len(
            s.scalars(
                select(t.TaskRun.id)
                .join(t.Run, t.Run.id == t.TaskRun.run_id)  # type: ignore[arg-type]
                .join(t.Source, t.Source.id == t.Run.source_id)  # type: ignore[arg-type]
                .where(t.Source.name == "airflow")
            ).all()
        )


def api_run_ids(af: AirflowStack) -> set[str]:
    return {f"{r['dag_id']}/{r['dag_run_id']}" for r in af.pages("/dags/~/dagRuns", "dag_runs")}


def assert_recovers(store: Store, airflow: AirflowStack, config: Settings) -> None:
    recovered, _ = sync_both(store, config)
    assert recovered.status is SyncStatus.OK, recovered.error
    assert run_ids(store) == api_run_ids(airflow)
    [state] = [s for s in store.read_sources_with_state() if s.name == "airflow"]
    assert (state.outcome, state.error) == ("ok", None)


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("down", r"cannot reach Airflow at http://127\.0\.0\.1:\d+: connection refused"),
        ("error", r"answered GET /dags with 500 Internal Server Error: Internal Server Error"),
        ("slow", r"did not answer GET /dags within 2s \(timeout\)"),
        ("garbage", r"sent an answer to GET /dags that is not the JSON its API documents"),
    ],
)
def test_a_fault_is_recorded_and_the_next_sync_recovers(
    store: Store, airflow: AirflowStack, proxy: FaultProxy, mode: Any, expected: str
) -> None:
    config = settings(proxy.url)
    proxy.set(mode, delay=4, only="/api/")
    failed, _ = sync_both(store, config)
    assert failed.status is SyncStatus.FAILED
    assert failed.error is not None
    assert re.search(expected, failed.error), failed.error
    [state] = [s for s in store.read_sources_with_state() if s.name == "airflow"]
    assert (state.outcome, state.error) == ("failed", failed.error)
    proxy.set("pass")
    assert_recovers(store, airflow, config)


def test_a_sync_cut_off_halfway_leaves_whole_batches_and_resumes(
    store: Store, airflow: AirflowStack, proxy: FaultProxy
) -> None:
    config = settings(proxy.url)
    # Sign-in, DAGs, import errors, tasks and assets pass; Airflow fails while runs are read.
    proxy.set("error", only="/api/v2/dags/~/dagRuns/~/taskInstances")
    failed, _ = sync_both(store, config)
    assert failed.status is SyncStatus.FAILED
    assert failed.batches >= 2  # definitions and the dag runs were committed
    assert run_ids(store) == api_run_ids(airflow)
    cursor = store.read_cursor(store.source_id("airflow"))
    assert cursor is not None
    assert cursor["since"] is None  # the watermark moves only when a sync completes
    assert task_runs(store) == 0
    proxy.set("pass")
    assert_recovers(store, airflow, config)
    assert task_runs(store) > 0


def test_a_wrong_password_is_named(
    store: Store, airflow: AirflowStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "not-the-password")
    failed, _ = sync_both(store, settings(airflow.url))
    assert failed.error == (
        f"Airflow at {airflow.url} refused to sign in user 'admin' (401): "
        "wrong username or password"
    )
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    assert_recovers(store, airflow, settings(airflow.url))


def test_a_missing_password_variable_is_named(
    store: Store, airflow: AirflowStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(PASSWORD_ENV)
    failed, _ = sync_both(store, settings(airflow.url))
    assert failed.error is not None
    assert f"environment variable {PASSWORD_ENV} is not set" in failed.error


def test_a_bearer_token_signs_in_and_a_bad_one_is_refused(
    store: Store, airflow: AirflowStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    def with_token() -> Settings:
        source = {"kind": "airflow", "base_url": airflow.url, "token_env": TOKEN_ENV}
        return parse_settings(
            {"sources": {"airflow": source, "synthetic": SYNTHETIC}}, file="t.toml"
        )

    monkeypatch.setenv(TOKEN_ENV, "not-a-token")
    failed, _ = sync_both(store, with_token())
    assert failed.error == (
        f"Airflow at {airflow.url} refused the credentials for GET /dags "
        "(403 Invalid JWT token): the token is missing, expired or invalid"
    )
    monkeypatch.setenv(TOKEN_ENV, airflow.token())
    assert_recovers(store, airflow, with_token())


def test_a_kept_session_is_reused_and_signs_in_again_when_its_token_is_refused(
    store: Store, airflow: AirflowStack, proxy: FaultProxy
) -> None:
    source = settings(proxy.url).sources["airflow"]
    pool = AdapterPool()  # as the server's scheduler keeps adapters between syncs
    try:
        for _ in range(2):
            result = sync_source(store, source, lease_ttl=TTL, adapters=pool)
            assert result.status is SyncStatus.OK, result.error
        assert proxy.requests.count("POST /auth/token") == 1  # the second sync signed in no more
        # Airflow no longer accepts the token (revoked, or its JWT secret rotated): the kept
        # session signs in again and the sync goes on, on the same adapter.
        invalid = b'{"detail": "Invalid JWT token"}'
        proxy.set("error", only="/api/v2/", status=401, body=invalid, times=1)
        result = sync_source(store, source, lease_ttl=TTL, adapters=pool)
        assert result.status is SyncStatus.OK, result.error
        assert proxy.requests.count("POST /auth/token") == 2
        adapter, reused = pool.take(source)
        assert reused
        pool.give_back(source, adapter, healthy=True)
    finally:
        pool.close()
    assert run_ids(store) == api_run_ids(airflow)
