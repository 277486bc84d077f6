"""Tempox served over HTTP for an orchestrator to push to, and GraphQL polled until a run shows.

Shared by the push tests of each orchestrator and by ``benchmarks/push_latency.py``: the
source syncs once at start and then only every hour, so a run that shows up soon after it
finished was brought by a push.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from catalog.auth.tokens import Tokens
from catalog.config import AuthSettings, parse_settings
from catalog.store import tables as t
from catalog.store.store import Store
from tests.peers.tempox import serve

SOURCE = "tool"
RUN = """
query Run($source: String!, $id: String!) {
  run(source: $source, externalId: $id) { __typename ... on Run { status } }
}
"""
SYNC = "{ sources { nodes { name sync { outcome trigger syncs } } } }"


@dataclass(frozen=True)
class PushedTempox:
    url: str
    token: str  # scopes ingest and read
    store: Store

    @property
    def push_url(self) -> str:
        return f"{self.url}/api/v1/sources/{SOURCE}/sync"

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        r = httpx.post(
            f"{self.url}/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=30,
        )
        r.raise_for_status()
        body: dict[str, Any] = r.json()
        assert "errors" not in body, body
        data: dict[str, Any] = body["data"]
        return data

    def run_status(self, external_id: str) -> str | None:
        found = self.graphql(RUN, {"source": SOURCE, "id": external_id})["run"]
        return str(found["status"]) if found["__typename"] == "Run" else None

    def wait_for_run(self, external_id: str, statuses: set[str], timeout: float = 180) -> str:
        """The run's status once it is one of ``statuses`` (GraphQL enum names)."""
        deadline = time.monotonic() + timeout
        while True:
            status = self.run_status(external_id)
            if status in statuses:
                return status
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"run {external_id} not {statuses} in Tempox within {timeout:.0f}s "
                    f"(last seen: {status}); sync: {self.graphql(SYNC)}"
                )
            time.sleep(0.05)

    def syncs(self) -> int:
        with self.store.session() as s:
            rows = s.query(t.SyncState).all()
        return sum(r.syncs for r in rows)

    def wait_idle(self, timeout: float = 180) -> None:
        """Until the source's start-up sync (or any under way) has ended. Read from the store:
        GraphQL answers about sync state come from the response cache until data changes."""
        deadline = time.monotonic() + timeout
        while True:
            with self.store.session() as s:
                rows = s.query(t.SyncState).all()
            if rows and rows[0].outcome in ("ok", "failed"):
                assert rows[0].outcome == "ok", rows[0].error
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"the sync of {SOURCE} did not end: {rows}")
            time.sleep(0.1)


def ingest_token(store: Store) -> str:
    """A new API token with the ingest and read scopes."""
    return Tokens(store).create("push", ["ingest", "read"], by="cli:test")[1]


@contextmanager
def tempox_for(
    store: Store,
    source: dict[str, Any],
    interval: str = "1h",
    *,
    port: int | None = None,
    token: str | None = None,
) -> Iterator[PushedTempox]:
    """Tempox on ``store`` syncing ``source`` (as ``tool``) every ``interval``, requiring a
    token (``token``, else a new one); yields once the start-up sync has ended. ``port``: one
    chosen beforehand, for a tool that must know Tempox's address when it starts."""
    if token is None:
        token = ingest_token(store)
    settings = parse_settings(
        {"sources": {SOURCE: source | {"interval": interval}}}, file="tempox.toml"
    )
    with serve(store, AuthSettings(required=True), settings=settings, port=port) as url:
        tempox = PushedTempox(url, token, store)
        tempox.wait_idle()
        yield tempox
