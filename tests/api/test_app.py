"""The app's own wiring: where its database comes from, and the tasks it runs alongside."""

from __future__ import annotations

import asyncio
import logging
from types import SimpleNamespace

import pytest
from starlette.testclient import TestClient

from api.app import DATABASE_URL_ENV, create_app
from catalog.service import Catalog


def test_settings_name_the_database(database: str) -> None:
    settings = SimpleNamespace(database=SimpleNamespace(url=database))
    with TestClient(create_app(settings)) as http:
        assert http.get("/healthz").json() == {"status": "ok", "database": "ok", "dataVersion": 0}
        assert http.post("/graphql", json={"query": "{ sources { totalCount } }"}).json() == {
            "data": {"sources": {"totalCount": 0}}
        }


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
