"""``/metrics`` through the app: the catalog's state as the store says it, labels from closed
sets whatever clients send, and no secret anywhere in it."""

from __future__ import annotations

import random
import string
from collections import defaultdict
from collections.abc import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select
from starlette.testclient import TestClient

from api.app import create_app
from api.metrics.instruments import REFUSAL_REASONS
from api.metrics.operations import OTHER, known_operations
from catalog.auth.tokens import Tokens
from catalog.config import AuthSettings, parse_settings
from catalog.enums import RunStatus, SyncOutcome
from catalog.service import Catalog
from catalog.store import tables as t
from catalog.store.store import Store
from catalog.sync import sync_sources
from tests.adapters.leaks import assert_not_in, new_secret, with_userinfo
from tests.api.conftest import OPERATIONS
from tests.api.estate import NOW, seed
from tests.peers.processes import free_port

Samples = dict[str, dict[tuple[tuple[str, str], ...], float]]


def scrape(http: TestClient, **headers: str) -> Samples:
    response = http.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    samples: Samples = defaultdict(dict)
    for family in text_string_to_metric_families(response.text):
        for s in family.samples:
            samples[s.name][tuple(sorted(s.labels.items()))] = s.value
    return samples


def labels(samples: Samples, name: str, label: str) -> set[str]:
    return {dict(key)[label] for key in samples.get(name, {})}


@pytest.fixture
def http(store: Store) -> Iterator[TestClient]:
    seed(store)
    with TestClient(create_app(catalog=Catalog(store, clock=lambda: NOW))) as client:
        yield client


def test_the_catalog_part_is_what_the_store_says(store: Store, http: TestClient) -> None:
    samples = scrape(http)
    catalog = Catalog(store, clock=lambda: NOW)
    assert samples["tempox_catalog_up"] == {(): 1.0}
    for state in store.read_sources_with_state():
        for outcome in SyncOutcome:
            key = (("kind", state.kind), ("outcome", outcome.value), ("source", state.name))
            want = 1.0 if state.outcome == outcome.value else 0.0
            assert samples["tempox_source_sync_outcome"][key] == want
        key = (("kind", state.kind), ("source", state.name))
        if state.succeeded_at is not None:
            got = samples["tempox_source_last_success_timestamp_seconds"][key]
            assert got == pytest.approx(state.succeeded_at.timestamp())
        assert samples["tempox_source_last_sync_records"][key] == state.records
    with store.session() as s:
        rows = s.execute(
            select(t.Source.name, t.Run.status, func.count())
            .join(t.Source, t.Source.id == t.Run.source_id)  # type: ignore[arg-type]
            .group_by(t.Source.name, t.Run.status)
        ).all()
        with_policy = s.scalar(
            select(func.count()).where(t.Asset.freshness_max_age_s.is_not(None))  # type: ignore[union-attr]
        )
    finished = {(source, status): n for source, status, n in rows if RunStatus(status).is_done()}
    got = {
        (dict(k)["source"], dict(k)["status"]): v
        for k, v in samples["tempox_runs_finished_total"].items()
    }
    assert got == finished
    assert samples["tempox_assets_stale"] == {(): catalog.count_stale_assets()}
    assert samples["tempox_assets_with_freshness_policy"] == {(): with_policy}
    buckets = samples["tempox_asset_freshness_lag_seconds_bucket"]
    assert buckets[(("le", "+Inf"),)] == with_policy
    # The estate at NOW: raw/orders produced 33 h 50 min before, clean/orders 29 h 57 min,
    # revenue never (counted only in +Inf).
    assert buckets[(("le", "86400.0"),)] == 0
    assert buckets[(("le", "172800.0"),)] == 2
    assert samples["tempox_asset_freshness_lag_max_seconds"] == {(): (33 * 60 + 50) * 60.0}


def test_labels_come_from_closed_sets_whatever_clients_send(http: TestClient) -> None:
    rng = random.Random(15)

    def name() -> str:
        return "Op" + "".join(rng.choices(string.ascii_letters, k=12))

    shipped = sorted(known_operations())
    assert "Sources" in shipped
    for _ in range(3):
        document = (OPERATIONS / "Sources.graphql").read_text()
        assert http.post("/graphql", json={"query": document}).status_code == 200
    for i in range(60):
        invented = name()
        http.post("/graphql", json={"query": f"query {invented} {{ sources {{ totalCount }} }}"})
        # A shipped name chosen by the client for some other document still counts as that
        # name: a bounded set all the same.
        http.post(
            "/graphql",
            json={"query": "{ __typename }", "operationName": invented if i % 2 else None},
        )
        http.post("/graphql", json={"query": f"query {invented} {{ nope }}"})
        http.post(
            "/api/v1/lineage",
            content=name().encode(),
            headers={"content-type": rng.choice(["application/json", f"text/{name()}"])},
        )
    samples = scrape(http)
    operations = labels(samples, "tempox_graphql_requests_total", "operation")
    assert "Sources" in operations
    assert OTHER in operations
    assert operations <= {*shipped, OTHER}
    assert labels(samples, "tempox_graphql_request_duration_seconds_count", "operation") <= {
        *shipped,
        OTHER,
    }
    assert labels(samples, "tempox_graphql_requests_total", "outcome") <= {
        "ok",
        "error",
        "refused",
    }
    assert labels(samples, "tempox_openlineage_requests_refused_total", "reason") == set(
        REFUSAL_REASONS
    )
    assert labels(samples, "tempox_graphql_cache_lookups_total", "result") == {"hit", "miss"}
    # Every family's series: a bound that depends on the code and the sources, not on traffic.
    series = sum(len(v) for k, v in samples.items() if k.startswith("tempox_graphql"))
    bound = (len(shipped) + 1) * (3 + 2 * 15) + 2 * 2
    assert series <= bound


def test_answers_of_the_direct_path_are_counted_by_their_operation(http: TestClient) -> None:
    def count(samples: Samples, name: str, **want: str) -> float:
        return sum(v for k, v in samples[name].items() if want.items() <= dict(k).items())

    before = scrape(http)
    document = (OPERATIONS / "FailedRuns.graphql").read_text()  # answered by api.direct
    for _ in range(2):  # executed, then answered from the cache
        response = http.post("/graphql", json={"query": document, "variables": {"first": 3}})
        assert response.status_code == 200
        assert "errors" not in response.json()
    after = scrape(http)
    requests = "tempox_graphql_requests_total"
    assert count(after, requests, operation="FailedRuns", outcome="ok") == (
        count(before, requests, operation="FailedRuns", outcome="ok") + 2
    )
    latency = "tempox_graphql_request_duration_seconds_count"
    assert count(after, latency, operation="FailedRuns") == (
        count(before, latency, operation="FailedRuns") + 2
    )
    lookups = "tempox_graphql_cache_lookups_total"
    for result in ("hit", "miss"):
        assert count(after, lookups, result=result) == count(before, lookups, result=result) + 1


def test_refusals_are_counted_by_reason(http: TestClient) -> None:
    before = scrape(http)["tempox_openlineage_requests_refused_total"]
    json = {"content-type": "application/json"}
    http.post("/api/v1/lineage", content=b"{", headers=json)
    http.post("/api/v1/lineage", content=b"{}", headers=json)
    http.post("/api/v1/lineage", content=b"{}", headers={"content-type": "text/plain"})
    http.post("/api/v1/lineage", content=b"nope", headers=json | {"content-encoding": "gzip"})
    after = scrape(http)["tempox_openlineage_requests_refused_total"]
    grew = {dict(k)["reason"]: after[k] - before[k] for k in after}
    assert grew == {
        "bad_json": 1,
        "invalid_event": 1,
        "content_type": 1,
        "bad_gzip": 1,
        "too_large": 0,
        "conflict": 0,
    }


def test_metrics_never_show_a_secret(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    secret, password = new_secret(), new_secret()
    monkeypatch.setenv("TEMPOX_TEST_METRICS_AUTH", f"tempox:{password}")
    url = with_userinfo(f"http://127.0.0.1:{free_port()}/api", secret)
    sources = {
        "prefect": {
            "kind": "prefect",
            "api_url": url,
            "auth_string_env": "TEMPOX_TEST_METRICS_AUTH",
            "timeout": "2s",
            "retries": 0,
        }
    }
    [result] = sync_sources(store, parse_settings({"sources": sources}, file="t.toml"))
    assert result.error is not None
    _, token = Tokens(store).create("prometheus", ["read"], by="cli:test")
    app = create_app(catalog=Catalog(store), auth=AuthSettings(required=True))
    with TestClient(app) as client:
        response = client.get("/metrics", headers={"authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert 'tempox_source_sync_outcome{kind="prefect",outcome="failed",source="prefect"} 1.0' in (
        response.text
    )
    for hidden in (secret, password, token):
        assert_not_in(hidden, "/metrics", response.text)


def test_a_database_that_does_not_answer_is_a_metric_not_an_error() -> None:
    down = Store(f"postgresql+psycopg://tempox@127.0.0.1:{free_port()}/tempox", migrate=False)
    try:
        with TestClient(create_app(catalog=Catalog(down))) as client:
            samples = scrape(client)
    finally:
        down.close()
    assert samples["tempox_catalog_up"] == {(): 0.0}
    assert "tempox_source_sync_outcome" not in samples
    assert "tempox_graphql_cache_lookups_total" in samples  # what the process counts still shows
