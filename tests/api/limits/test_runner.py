"""Executions run off the server's loop, a few at a time, within a budget: while one query
blocks, /healthz and other queries answer; past the queue a 503 says when to retry; past the
budget the query is stopped and the client told."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from api.schema import admin
from api.schema.admin import Viewer
from catalog.auth.principal import Principal
from catalog.config import LimitSettings
from catalog.service import Catalog
from catalog.store.store import Store
from tests.peers.tempox import serve

SLOW = {"query": "{ viewer { name } }"}
FAST = {"query": "{ sources { totalCount } }"}


@pytest.fixture
def blocking_viewer(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """`viewer` resolves synchronously on the loop that executes it; made to block there (as
    building a very large answer would) until the test lets it go."""
    release = threading.Event()
    original = Viewer.of.__func__  # type: ignore[attr-defined]

    def blocking(cls: type[Viewer], principal: Principal, auth_required: bool) -> Viewer:
        release.wait(20)
        return original(cls, principal, auth_required)  # type: ignore[no-any-return]

    monkeypatch.setattr(admin.Viewer, "of", classmethod(blocking))
    yield release
    release.set()


def _in_background(url: str, body: dict[str, str]) -> tuple[threading.Thread, list[httpx.Response]]:
    answers: list[httpx.Response] = []

    def send() -> None:
        answers.append(httpx.post(f"{url}/graphql", json=body, timeout=30))

    thread = threading.Thread(target=send)
    thread.start()
    return thread, answers


def test_a_query_blocking_its_loop_does_not_block_the_server(
    store: Store, blocking_viewer: threading.Event
) -> None:
    with serve(store) as url:
        thread, answers = _in_background(url, SLOW)
        time.sleep(0.5)  # the slow one is executing now
        # The server's own loop is free: health checks and other queries answer meanwhile.
        assert httpx.get(f"{url}/healthz", timeout=5).status_code == 200
        fast = httpx.post(f"{url}/graphql", json=FAST, timeout=5)
        assert fast.json() == {"data": {"sources": {"totalCount": 0}}}
        assert thread.is_alive()  # … while the slow one is still blocked
        blocking_viewer.set()
        thread.join(10)
    assert answers[0].json() == {"data": {"viewer": {"name": "anonymous"}}}


def test_past_the_queue_a_client_is_told_to_retry(
    store: Store, blocking_viewer: threading.Event
) -> None:
    limits = LimitSettings(max_concurrent_queries=1, max_queued_queries=1)
    with serve(store, limits=limits) as url:
        running, first = _in_background(url, SLOW)
        time.sleep(0.5)
        waiting, second = _in_background(url, FAST)  # queued behind it
        time.sleep(0.5)
        refused = httpx.post(f"{url}/graphql", json=FAST, timeout=5)
        assert refused.status_code == 503
        assert refused.headers["retry-after"] == "1"
        [error] = refused.json()["errors"]
        assert error["extensions"]["code"] == "SERVER_BUSY"
        assert "1 queries are running and 1 waiting" in error["message"]
        assert httpx.get(f"{url}/healthz", timeout=5).status_code == 200
        blocking_viewer.set()
        running.join(10)
        waiting.join(10)
    assert first[0].status_code == 200
    assert second[0].json() == {"data": {"sources": {"totalCount": 0}}}


def test_a_query_past_its_budget_is_stopped_and_the_client_told(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    def slow_count(self: Catalog) -> int:
        time.sleep(3)
        return 0

    monkeypatch.setattr(Catalog, "count_sources", slow_count)
    limits = LimitSettings(query_timeout="1s")  # type: ignore[arg-type]
    with serve(store, limits=limits) as url:
        started = time.monotonic()
        answer = httpx.post(f"{url}/graphql", json=FAST, timeout=10)
        waited = time.monotonic() - started
        [error] = answer.json()["errors"]
        assert error["extensions"] == {"code": "QUERY_TIMEOUT", "timeoutSeconds": 1.0}
        assert "ran longer than 1 s and was stopped" in error["message"]
        assert waited < 3  # told at the deadline, not when the work would have finished
        assert httpx.get(f"{url}/healthz", timeout=5).status_code == 200
