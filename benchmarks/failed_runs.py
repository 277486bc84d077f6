"""failedRuns: the GraphQL field against the equivalent raw SQL.

Three Tempox figures: *executed* runs the operation through the schema's general executor every
time (parse and validation cached, no response cache: what another document asking the same
costs); *compiled* posts it to the real ASGI app in-process with no response cache, where the
verbatim document is answered by the compiled path (``api/direct``: what a first request or a
changed catalog costs); *served* posts it to the app with its response cache, where a repeat is
answered from the cache until the catalog's data version moves (what a dashboard polling costs).

The raw side asks the database for exactly what the operation returns (the failed runs of the
window, newest first, with their pipeline, its owners and its source, and the total count) in
the fewest statements a hand-written client would use, through the bare DB-API cursor.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from api.app import create_app
from api.schema import schema
from api.schema.context import Context
from benchmarks.timing import interleaved
from catalog.service import Catalog

OPERATION = (Path(__file__).parent.parent / "graphql/operations/FailedRuns.graphql").read_text()
PAGE = 100

RAW_RUNS = """
SELECT r.id, r.external_id, r.status, r.started_at, r.error, r.ui_url,
       p.id, p.name, s.name, s.kind
FROM run r JOIN pipeline p ON p.id = r.pipeline_id JOIN source s ON s.id = r.source_id
WHERE r.status IN ('failed', 'upstream_failed') AND r.happened_at >= {p} AND r.happened_at < {p}
ORDER BY r.happened_at DESC, r.id DESC LIMIT {limit}
"""
RAW_COUNT = """
SELECT count(*) FROM run r
WHERE r.status IN ('failed', 'upstream_failed') AND r.happened_at >= {p} AND r.happened_at < {p}
"""
RAW_OWNERS = "SELECT entity_id, name FROM owner WHERE entity_kind = {kind} AND entity_id IN ({ids})"


def bench_failed_runs(catalog: Catalog, until: datetime) -> dict[str, Any]:
    # Its own thread, so its own event loop: the caller's thread may have one running already
    # (a test session's Playwright keeps one running in the main thread).
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(_bench, catalog, until).result()


def _bench(catalog: Catalog, until: datetime) -> dict[str, Any]:
    since = until - timedelta(days=7)
    variables = {"since": since.isoformat(), "until": until.isoformat(), "first": PAGE}
    loop = asyncio.new_event_loop()

    def graphql() -> Any:
        result = loop.run_until_complete(
            schema.execute(OPERATION, variables, context_value=Context(catalog))
        )
        assert result.errors is None, result.errors
        return result.data

    engine = catalog.store.engine
    sqlite = engine.dialect.name == "sqlite"
    p = "?" if sqlite else "%s"
    window: tuple[Any, ...] = (
        (since.replace(tzinfo=None), until.replace(tzinfo=None)) if sqlite else (since, until)
    )
    dbapi = engine.raw_connection()
    cursor = dbapi.cursor()

    def raw() -> Any:
        cursor.execute(RAW_RUNS.format(p=p, limit=PAGE + 1), window)
        rows = cursor.fetchall()
        cursor.execute(RAW_COUNT.format(p=p), window)
        total = cursor.fetchone()
        pipeline_ids = sorted({r[6] for r in rows}) or [0]
        owners = []
        # The pipelines' owners, and each run's own (a run's owners: its own, then its pipeline's).
        for kind, ids in (("pipeline", pipeline_ids), ("run", [r[0] for r in rows] or [0])):
            query = RAW_OWNERS.format(kind=p, ids=", ".join([p] * len(ids)))
            cursor.execute(query, [kind, *ids])
            owners.append(cursor.fetchall())
        return rows, total, owners

    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(catalog=catalog)), base_url="http://tempox"
    )
    # The same app without a response cache: the verbatim document takes the compiled path
    # (api/direct), executed every time, as a first request or one right after a sync is.
    uncached = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(catalog=catalog, cache_responses=False)),
        base_url="http://tempox",
    )
    body = {"query": OPERATION, "variables": variables}

    def served() -> Any:
        response = loop.run_until_complete(client.post("/graphql", json=body))
        return response.json()["data"]

    def compiled() -> Any:
        response = loop.run_until_complete(uncached.post("/graphql", json=body))
        return response.json()["data"]

    assert served() == graphql() == compiled()
    returned = len(graphql()["failedRuns"]["nodes"])
    raw_rows = len(raw()[0][:PAGE])
    assert returned == raw_rows, (returned, raw_rows)
    total = graphql()["failedRuns"]["totalCount"]
    try:
        ours, base = interleaved(graphql, raw, rounds=5, repeat=20)
        warm, base2 = interleaved(served, raw, rounds=5, repeat=20)
        direct, base3 = interleaved(compiled, raw, rounds=5, repeat=20)
    finally:
        loop.run_until_complete(client.aclose())
        loop.run_until_complete(uncached.aclose())
        dbapi.close()
        loop.close()
    return {
        "failed_runs_in_window": total,
        "returned": returned,
        "executed_ms": ours * 1000,
        "raw_sql_ms": base * 1000,
        "executed_ratio": ours / base,
        "served_ms": warm * 1000,
        "served_ratio": warm / base2,
        "compiled_ms": direct * 1000,
        "compiled_ratio": direct / base3,
    }
