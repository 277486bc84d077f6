"""``POST /api/v1/sources/{name}/sync`` through a real uvicorn server: a push starts a sync at
once, bursts coalesce, a push during a sync gets one follow-up (also across two servers on one
database), and every bad request is refused naming its problem."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from catalog import adapter as adapters
from catalog.auth.tokens import Tokens
from catalog.config import AuthSettings, Settings, parse_settings
from catalog.store import tables as t
from catalog.store.store import Store
from tests.catalog.test_sync_triggers import GateAdapter
from tests.peers.tempox import serve


@pytest.fixture(autouse=True)
def _gate_is_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    GateAdapter.active = GateAdapter.most = GateAdapter.fetches = 0
    GateAdapter.entered = threading.Event()
    GateAdapter.release = threading.Event()
    GateAdapter.hinted = []
    GateAdapter.order = []
    monkeypatch.setattr(adapters, "discover_adapters", lambda: {"gate": GateAdapter})


def settings(hold: bool = False, background: bool = True) -> Settings:
    return parse_settings(
        {
            "server": {"sync_in_background": background},
            "sources": {
                "gate": {"kind": "gate", "hold": hold, "interval": "1h"},
                "off": {"kind": "gate", "enabled": False},
            },
        }
    )


def sync_row(store: Store) -> t.SyncState | None:
    with store.session() as s:
        source = s.scalar(select(t.Source).where(t.Source.name == "gate"))
        return None if source is None else s.get(t.SyncState, source.id)


def wait_for(check: Any, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("the condition never held")
        time.sleep(0.02)


def idle(store: Store, syncs: int) -> bool:
    row = sync_row(store)
    return row is not None and row.syncs == syncs and row.outcome == "ok"


@pytest.fixture
def server(store: Store) -> Iterator[str]:
    with serve(store, settings=settings()) as url:
        wait_for(lambda: idle(store, 1))  # the start-up sync
        yield url


def test_a_push_syncs_now_and_answers_with_the_sync_id(store: Store, server: str) -> None:
    with httpx.Client(timeout=30) as http:
        response = http.post(
            f"{server}/api/v1/sources/gate/sync", json={"run_id": "hot", "pipeline": "etl"}
        )
        assert response.status_code == 202, response.text
        body = response.json()
        assert body["source"] == "gate"
        assert body["followsRunningSync"] is False
        wait_for(lambda: idle(store, 2))
        row = sync_row(store)
        assert row is not None
        assert (row.sync_id, row.trigger) == (body["id"], "push")
        assert GateAdapter.order[-2:] == ["hinted hot", "fetch 2"]
        # What the sync did is visible through GraphQL.
        query = "{ sources { nodes { name sync { id trigger syncs requestedId } } } }"
        data = http.post(f"{server}/graphql", json={"query": query}).json()["data"]
        [gate] = [n for n in data["sources"]["nodes"] if n["name"] == "gate"]
        assert gate["sync"] == {
            "id": body["id"],
            "trigger": "PUSH",
            "syncs": 2,
            "requestedId": None,
        }


def test_a_hundred_concurrent_pushes_are_one_or_two_syncs(store: Store, server: str) -> None:
    with httpx.Client(timeout=60) as http, ThreadPoolExecutor(max_workers=20) as pool:
        responses = list(
            pool.map(lambda _: http.post(f"{server}/api/v1/sources/gate/sync"), range(100))
        )
    assert {r.status_code for r in responses} == {202}
    ids = {r.json()["id"] for r in responses}
    assert 1 <= len(ids) <= 2
    wait_for(lambda: (row := sync_row(store)) is not None and row.requested_id is None)
    wait_for(lambda: (row := sync_row(store)) is not None and idle(store, row.syncs))
    time.sleep(1)  # a further sync, were there one, would have started
    row = sync_row(store)
    assert row is not None
    assert row.syncs - 1 in (1, 2)  # counted from the store, besides the start-up sync
    assert row.sync_id in ids
    assert GateAdapter.most == 1


def test_a_push_during_a_sync_on_another_server_gets_one_follow_up(database: str) -> None:
    a, b = Store(database), Store(database)
    try:
        with serve(a, settings=settings(hold=True)) as url_a:
            assert GateAdapter.entered.wait(30)  # A's start-up sync is under way, held
            with serve(b, settings=settings(hold=True)) as url_b, httpx.Client(timeout=30) as h:
                time.sleep(0.5)  # B's start-up sync found A's lease
                pushed = [h.post(f"{url}/api/v1/sources/gate/sync") for url in (url_b, url_a)]
                assert [p.status_code for p in pushed] == [202, 202]
                first, second = (p.json() for p in pushed)
                assert first["id"] == second["id"]
                assert first["followsRunningSync"] is True
                time.sleep(1.5)  # B looks again and finds A still syncing
                GateAdapter.release.set()
                wait_for(lambda: idle(a, 2))
                time.sleep(2)  # neither server starts a third
                row = sync_row(a)
                assert row is not None
                assert (row.syncs, row.sync_id, row.trigger) == (2, first["id"], "push")
    finally:
        a.close()
        b.close()
    assert GateAdapter.fetches == 2
    assert GateAdapter.most == 1


@pytest.mark.parametrize(
    ("path", "body", "headers", "status", "says"),
    [
        ("nope", None, {}, 404, "no source named 'nope' (configured: gate, off)"),
        ("off", None, {}, 409, "source 'off' is disabled"),
        ("gate", b"{", {"content-type": "application/json"}, 400, "body is not valid JSON"),
        ("gate", b"[1]", {"content-type": "application/json"}, 400, "body must be a JSON object"),
        ("gate", b'{"run": "x"}', {"content-type": "application/json"}, 400, "run: is not a known"),
        ("gate", b'{"run_id": 7}', {"content-type": "application/json"}, 400, "run_id: input"),
        ("gate", b'{"run_id": ""}', {"content-type": "application/json"}, 400, "run_id: string"),
        ("gate", b"run_id=x", {"content-type": "text/plain"}, 415, "must be application/json"),
        ("gate", b"x" * 5000, {"content-type": "application/json"}, 413, "larger than 4096"),
    ],
)
def test_bad_pushes_are_refused_naming_the_problem(
    store: Store,
    path: str,
    body: bytes | None,
    headers: dict[str, str],
    status: int,
    says: str,
) -> None:
    with serve(store, settings=settings(background=False)) as url, httpx.Client() as http:
        response = http.post(f"{url}/api/v1/sources/{path}/sync", content=body, headers=headers)
        assert response.status_code == status, response.text
        assert says in response.json()["error"]
        assert http.get(f"{url}/healthz").status_code == 200  # still serving
    row = sync_row(store)
    assert row is None or row.requested_id is None  # nothing recorded


def test_a_server_that_does_not_sync_records_the_push_for_one_that_does(store: Store) -> None:
    with serve(store, settings=settings(background=False)) as url, httpx.Client() as http:
        response = http.post(f"{url}/api/v1/sources/gate/sync", json={"run_id": "r9"})
        assert response.status_code == 202
        assert "does not sync in the background" in response.json()["note"]
    row = sync_row(store)
    assert row is not None
    assert row.requested_id == response.json()["id"]
    assert row.requested_hints == [{"run_id": "r9"}]


def test_pushing_needs_the_ingest_scope(store: Store) -> None:
    made = Tokens(store)
    reader = made.create("reader", ["read"], by="cli:test")[1]
    ingester = made.create("ingester", ["ingest"], by="cli:test")[1]
    auth = AuthSettings(required=True)
    with (
        serve(store, auth, settings=settings(background=False)) as url,
        httpx.Client() as http,
    ):
        target = f"{url}/api/v1/sources/gate/sync"
        assert http.post(target).status_code == 401
        refused = http.post(target, headers={"authorization": f"Bearer {reader}"})
        assert refused.status_code == 403
        assert "lacks the ingest scope" in refused.json()["error"]
        assert sync_row(store) is None  # a refused push recorded nothing
        ok = http.post(target, headers={"authorization": f"Bearer {ingester}"})
        assert ok.status_code == 202
