"""The app's own wiring: where its database comes from, and the tasks it runs alongside."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest
from starlette.testclient import TestClient

from api.app import DATABASE_URL_ENV, create_app
from catalog.config import parse_settings
from catalog.service import Catalog


def test_settings_name_the_database(database: str) -> None:
    settings = parse_settings({"database": {"url": database}})
    with TestClient(create_app(settings)) as http:
        assert http.get("/healthz").json() == {"status": "ok", "database": "ok", "dataVersion": 0}
        assert http.post("/graphql", json={"query": "{ sources { totalCount } }"}).json() == {
            "data": {"sources": {"totalCount": 0}}
        }


def test_the_served_app_syncs_its_sources_in_the_background(database: str) -> None:
    settings = parse_settings(
        {
            "database": {"url": database},
            "sources": {"demo": {"kind": "synthetic", "pipelines": 2, "runs_per_pipeline": 3}},
        }
    )
    query = "{ sources { nodes { name sync { outcome } } } runs { totalCount } }"
    with TestClient(create_app(settings)) as http:
        deadline = time.monotonic() + 30
        while True:
            data = http.post("/graphql", json={"query": query}).json()["data"]
            if data["runs"]["totalCount"] == 6 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
    assert data["runs"]["totalCount"] == 6
    assert data["sources"]["nodes"][0]["name"] == "demo"


def test_no_sync_serves_without_syncing(database: str) -> None:
    settings = parse_settings(
        {
            "database": {"url": database},
            "server": {"sync_in_background": False},
            "sources": {"demo": {"kind": "synthetic"}},
        }
    )
    with TestClient(create_app(settings)) as http:
        time.sleep(0.5)
        body = http.post("/graphql", json={"query": "{ runs { totalCount } }"}).json()
    assert body == {"data": {"runs": {"totalCount": 0}}}


def test_environment_names_the_database(database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DATABASE_URL_ENV, database)
    with TestClient(create_app()) as http:
        assert http.get("/healthz").status_code == 200


def test_lifespan_tasks_run_until_shutdown_and_a_crash_is_only_logged(
    catalog: Catalog, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[str] = []

    async def scheduler() -> None:
        seen.append("started")
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            seen.append("cancelled")
            raise

    async def broken() -> None:
        raise RuntimeError("sync worker exploded")

    with caplog.at_level(logging.ERROR, logger="tempox.api"):
        app = create_app(catalog=catalog, lifespan_tasks=[scheduler, broken])
        with TestClient(app) as http:
            assert http.get("/healthz").status_code == 200
            assert seen == ["started"]
    assert seen == ["started", "cancelled"]
    assert any("broken" in r.getMessage() and r.exc_info for r in caplog.records)
