"""Bad input at POST /api/v1/lineage: a clear 4xx naming the problem, nothing stored, no 5xx."""

from __future__ import annotations

import copy
import gzip
import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from api.app import create_app
from catalog.service import Catalog
from catalog.store import tables as t
from catalog.store.store import Store

URL = "/api/v1/lineage"
JSON = {"content-type": "application/json"}
RUN_ID = "0193a0b6-2a8e-7c6e-9b1a-3f1c1f0e9a01"


def event(kind: str = "START", at: str = "2024-05-01T10:00:00Z", **extra: Any) -> dict[str, Any]:
    return {
        "eventType": kind,
        "eventTime": at,
        "producer": "https://example.com/producer",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": RUN_ID, "facets": {}},
        "job": {"namespace": "ns", "name": "job"},
        "inputs": [{"namespace": "s3://lake", "name": "in"}],
        "outputs": [{"namespace": "s3://lake", "name": "out"}],
        **extra,
    }


@pytest.fixture
def http(store: Store) -> Iterator[TestClient]:
    with TestClient(create_app(catalog=Catalog(store)), raise_server_exceptions=False) as c:
        yield c


def _runs(store: Store) -> int:
    with store.session() as s:
        return int(s.scalar(select(func.count()).select_from(t.Run)) or 0)


def _mutated(change: Any) -> dict[str, Any]:
    e = copy.deepcopy(event())
    change(e)
    return e


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (_mutated(lambda e: e.pop("eventTime")), "eventTime: required field is missing"),
        (_mutated(lambda e: e["run"].pop("runId")), "run.runId: required field is missing"),
        (_mutated(lambda e: e["job"].update(name=7)), "job.name: expected a string, got an"),
        (_mutated(lambda e: e.update(eventType="BEGIN")), "eventType: 'BEGIN' is not one of"),
        (_mutated(lambda e: e.update(eventTime="soon")), "eventTime: 'soon' is invalid"),
        (_mutated(lambda e: e.update(inputs={})), "inputs: expected an array, got an object"),
        (
            _mutated(lambda e: e["run"]["facets"].update(parent={"run": {"runId": "x"}})),
            "run.facets.parent.job: required field is missing",
        ),
        ([event(), {"eventType": "START"}], "[1].eventTime: required field is missing"),
        ("a string", "an event is a JSON object, not a string"),
    ],
)
def test_invalid_events_are_refused_and_nothing_is_stored(
    http: TestClient, store: Store, body: Any, message: str
) -> None:
    response = http.post(URL, json=body)
    assert response.status_code == 400, response.text
    assert response.json()["error"].startswith(message)
    assert _runs(store) == 0


def test_malformed_json(http: TestClient, store: Store) -> None:
    response = http.post(
        URL, content=b'{"eventType": "START",', headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["error"]
    assert http.post(URL, json=event()).status_code == 201  # still serving


def test_ten_megabytes_is_too_large(http: TestClient, store: Store) -> None:
    big = event()
    big["run"]["facets"]["huge"] = {"blob": "x" * (10 * 1024 * 1024)}
    response = http.post(URL, content=json.dumps(big).encode(), headers=JSON)
    assert response.status_code == 413
    assert _runs(store) == 0
    bomb = gzip.compress(json.dumps(big).encode())  # small on the wire, 10 MB inflated
    response = http.post(URL, content=bomb, headers={"content-encoding": "gzip"} | JSON)
    assert response.status_code == 413
    assert http.post(URL, json=event()).status_code == 201


def test_bad_gzip(http: TestClient) -> None:
    response = http.post(URL, content=b"not gzip", headers={"content-encoding": "gzip"} | JSON)
    assert response.status_code == 400


def test_fail_before_start_keeps_the_failure(http: TestClient, store: Store) -> None:
    fail = event("FAIL", "2024-05-01T10:00:09Z")
    fail["run"]["facets"]["errorMessage"] = {
        "message": "boom",
        "programmingLanguage": "python",
    }
    assert http.post(URL, json=fail).status_code == 201
    assert http.post(URL, json=event("START")).status_code == 201  # late START
    run = Catalog(store).run_by_external_id("openlineage", RUN_ID)
    assert run is not None
    assert (run.status, run.error, run.raw_status) == ("failed", "boom", "FAIL")
    assert run.started_at is not None
    assert run.ended_at is not None
    assert run.duration_s == 9.0


def test_unknown_facets_and_timezones_are_kept(http: TestClient, store: Store) -> None:
    e = event(at="2024-05-01T12:00:00.123456789+02:00")
    e["run"]["facets"]["acme_thing"] = {"_producer": "x", "nested": {"ü": [1, 2]}}
    e["job"]["name"] = "日本語ジョブ"
    assert http.post(URL, json=[e]).status_code == 201
    run = Catalog(store).run_by_external_id("openlineage", RUN_ID)
    assert run is not None
    assert run.meta["openlineage"]["run_facets"]["acme_thing"]["nested"] == {"ü": [1, 2]}
    assert run.started_at is not None
    assert run.started_at.isoformat() == "2024-05-01T10:00:00.123456+00:00"


def test_empty_batch_and_wrong_method(http: TestClient) -> None:
    assert http.post(URL, json=[]).status_code == 201
    assert http.get(URL).status_code == 405
