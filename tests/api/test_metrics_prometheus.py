"""A real Prometheus (Debian's) scrapes a real Tempox server, loaded with data, through
``/metrics`` with a ``read`` token; the series it stores are read back through its HTTP API and
checked against the catalog, the shipped rules evaluate without error, and every PromQL
expression of the shipped Grafana dashboard returns data."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import func, select

from api.metrics import SyncMetrics
from catalog.auth.tokens import Tokens
from catalog.config import AuthSettings, parse_settings
from catalog.enums import RunStatus, SyncOutcome
from catalog.service import Catalog
from catalog.store import tables as t
from catalog.store.store import Store
from catalog.sync_triggers import SyncScheduler
from tests.api.conftest import OPERATIONS
from tests.api.estate import seed
from tests.databases import BACKENDS, database_url
from tests.peers.processes import free_port, wait_until
from tests.peers.prometheus import Prometheus
from tests.peers.tempox import serve

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "tempox.json"
SYNTHETIC = {
    "kind": "synthetic",
    "pipelines": 3,
    "tasks_per_pipeline": 2,
    "runs_per_pipeline": 4,
    "interval": "1h",
}
EVENTS = 5


@dataclass
class Scraped:
    store: Store
    url: str
    prometheus: Prometheus


def _event(n: int) -> dict[str, object]:
    return {
        "eventType": "COMPLETE",
        "eventTime": "2026-05-01T10:00:00Z",
        "producer": "https://example.com/producer",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": f"0193a0b6-2a8e-7c6e-9b1a-{n:012d}"},
        "job": {"namespace": "metrics-test", "name": f"job-{n}"},
    }


def _traffic(url: str, read: str, ingest: str) -> None:
    """What a day of clients does: named and unnamed queries, a repeated one (cached), a bad
    one, OpenLineage events accepted and refused."""
    with httpx.Client(base_url=url, timeout=30) as http:
        as_reader = {"authorization": f"Bearer {read}"}
        for name in ("Sources", "Sources", "StaleAssets", "Pipelines"):
            document = (OPERATIONS / f"{name}.graphql").read_text()
            answer = http.post("/graphql", json={"query": document}, headers=as_reader)
            assert answer.status_code == 200, answer.text
        http.post("/graphql", json={"query": "{ nope }"}, headers=as_reader)
        http.post("/graphql", json={"query": "{ sources { totalCount } }"})  # 401
        as_producer = {"authorization": f"Bearer {ingest}"}
        accepted = http.post(
            "/api/v1/lineage", json=[_event(n) for n in range(EVENTS)], headers=as_producer
        )
        assert accepted.status_code == 201, accepted.text
        refused = http.post(
            "/api/v1/lineage",
            content=b"[",
            headers=as_producer | {"content-type": "application/json"},
        )
        assert refused.status_code == 400


@pytest.fixture(scope="module", params=BACKENDS)
def scraped(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Scraped]:
    tmp = tmp_path_factory.mktemp("metrics")
    with database_url(request.param, tmp) as url:
        store = Store(url)
        seed(store)
        down = {
            "kind": "prefect",
            "api_url": f"http://127.0.0.1:{free_port()}/api",  # nothing listens: a server down
            "timeout": "2s",
            "retries": 0,
            "interval": "1h",
        }
        settings = parse_settings({"sources": {"lake": SYNTHETIC, "down": down}}, file="t.toml")
        made = Tokens(store)
        read = made.create("prometheus", ["read"], by="cli:test")[1]
        ingest = made.create("producer", ["ingest"], by="cli:test")[1]
        scheduler = SyncScheduler(store, settings, observer=SyncMetrics())
        try:
            with serve(store, AuthSettings(required=True), tasks=[scheduler.run]) as server:
                wait_until("both background syncs to end", lambda: _synced(store), 60)
                _traffic(server, read, ingest)
                prometheus = Prometheus.start(tmp / "prometheus", server, token=read)
                try:
                    # Enough samples for rate() and the recording rules over them.
                    prometheus.wait_for("count_over_time(tempox_catalog_up[1m]) >= 4", 60)
                    yield Scraped(store, server, prometheus)
                finally:
                    prometheus.stop()
        finally:
            store.close()


def _synced(store: Store) -> bool:
    states = {s.name: s.outcome for s in store.read_sources_with_state()}
    return states.get("lake") == "ok" and states.get("down") == "failed"


def _by(samples: dict[tuple[tuple[str, str], ...], float], *names: str) -> dict[Any, float]:
    """Samples keyed by the values of the labels ``names``."""
    out = {}
    for key, value in samples.items():
        labels = dict(key)
        out[tuple(labels[n] for n in names) if len(names) > 1 else labels[names[0]]] = value
    return out


def test_prometheus_stores_what_the_catalog_says(scraped: Scraped) -> None:
    prom, store = scraped.prometheus, scraped.store
    assert [t["health"] for t in prom.targets()] == ["up"]  # with the read token
    for state in store.read_sources_with_state():
        where = f'source="{state.name}", kind="{state.kind}"'
        outcomes = _by(prom.values(f"tempox_source_sync_outcome{{{where}}}"), "outcome")
        assert outcomes == {o.value: float(o.value == state.outcome) for o in SyncOutcome}
        last = prom.values(f"tempox_source_last_success_timestamp_seconds{{{where}}}")
        if state.succeeded_at is None:
            assert last == {}
        else:
            assert list(last.values()) == [pytest.approx(state.succeeded_at.timestamp())]
        records = prom.values(f"tempox_source_last_sync_records{{{where}}}")
        assert list(records.values()) == [state.records]

    with store.session() as s:
        rows = s.execute(
            select(t.Source.name, t.Run.status, func.count())
            .join(t.Source, t.Source.id == t.Run.source_id)  # type: ignore[arg-type]
            .group_by(t.Source.name, t.Run.status)
        ).all()
    finished = {(src, status): float(n) for src, status, n in rows if RunStatus(status).is_done()}
    assert _by(prom.values("tempox_runs_finished_total"), "source", "status") == finished
    assert ("lake", "failed") in finished  # the synthetic estate has failures

    catalog = Catalog(store)
    [stale] = prom.values("tempox_assets_stale").values()
    assert stale == catalog.count_stale_assets()
    [with_policy] = prom.values("tempox_assets_with_freshness_policy").values()
    assert prom.values('tempox_asset_freshness_lag_seconds_bucket{le="+Inf"}') == {
        (
            ("__name__", "tempox_asset_freshness_lag_seconds_bucket"),
            ("instance", _instance(scraped)),
            ("job", "tempox"),
            ("le", "+Inf"),
        ): with_policy
    }


def _instance(scraped: Scraped) -> str:
    return scraped.url.removeprefix("http://")


def _process_value(name: str, labels: dict[str, str] | None = None) -> float:
    return REGISTRY.get_sample_value(name, labels or {}) or 0.0


def _settled(prom: Prometheus, expr: str, want: float) -> float:
    """The value Prometheus holds for ``expr`` once a scrape has caught up with ``want``."""
    deadline = time.monotonic() + 30
    while True:
        got = sum(prom.values(expr).values())
        if got == want or time.monotonic() > deadline:
            return got


def test_prometheus_stores_what_the_process_counted(scraped: Scraped) -> None:
    prom = scraped.prometheus
    checks = [
        ("tempox_openlineage_events_accepted_total", {}),
        ("tempox_openlineage_requests_refused_total", {"reason": "bad_json"}),
        ("tempox_graphql_requests_total", {"operation": "Sources", "outcome": "ok"}),
        ("tempox_graphql_requests_total", {"operation": "other", "outcome": "error"}),
        ("tempox_graphql_requests_total", {"operation": "other", "outcome": "refused"}),
        ("tempox_graphql_cache_lookups_total", {"result": "hit"}),
        ("tempox_syncs_total", {"source": "lake", "outcome": "ok"}),
        ("tempox_syncs_total", {"source": "down", "outcome": "failed"}),
    ]
    for name, labels in checks:
        want = _process_value(name, labels)
        assert want >= 1, (name, labels)
        selector = ", ".join(f'{k}="{v}"' for k, v in labels.items())
        assert _settled(prom, f"{name}{{{selector}}}", want) == want, (name, labels)
    assert _process_value("tempox_openlineage_events_accepted_total") >= EVENTS


def test_the_shipped_rules_evaluate_without_error(scraped: Scraped) -> None:
    answer = httpx.get(f"{scraped.prometheus.url}/api/v1/rules", timeout=10).json()
    rules = [r for g in answer["data"]["groups"] for r in g["rules"]]
    assert len(rules) >= 10
    assert [(r["name"], r.get("lastError")) for r in rules if r["health"] != "ok"] == []
    # The sources whose last sync failed (the one down among them) are pending: failing, not
    # yet for 15 minutes.
    failed = {s.name for s in scraped.store.read_sources_with_state() if s.outcome == "failed"}
    assert "down" in failed
    [failing] = [r for r in rules if r["name"] == "TempoxSourceSyncFailing"]
    assert {a["labels"]["source"] for a in failing["alerts"]} == failed
    assert {a["state"] for a in failing["alerts"]} == {"pending"}


def _exprs(node: object) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "expr" and isinstance(value, str):
                yield value
            else:
                yield from _exprs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _exprs(item)


def _instantiate(expr: str) -> str:
    """The expression as Grafana sends it with every source selected."""
    return expr.replace("$__rate_interval", "1m").replace("$source", ".*")


def test_every_dashboard_expression_returns_data(scraped: Scraped) -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    exprs = list(_exprs(dashboard["panels"]))
    assert len(exprs) >= 20
    leftover = [e for e in exprs if re.search(r"\$\w", _instantiate(e))]
    assert leftover == [], "variables the test does not know"
    empty = []
    for expr in exprs:
        try:
            scraped.prometheus.wait_for(_instantiate(expr), timeout=20)
        except TimeoutError:
            empty.append(expr)
    assert empty == []
    # The source variable lists the sources, as Grafana's label_values() asks for them.
    [variable] = [v for v in dashboard["templating"]["list"] if v["name"] == "source"]
    metric, label = re.fullmatch(r"label_values\((\w+), (\w+)\)", variable["definition"]).groups()  # type: ignore[union-attr]
    values = httpx.get(
        f"{scraped.prometheus.url}/api/v1/label/{label}/values",
        params={"match[]": metric},
        timeout=10,
    ).json()["data"]
    assert set(values) >= {"lake", "down", "airflow-prod", "dagster-prod"}
