"""The replay server on cassettes made up here, in no orchestrator's shape: how requests are
matched and answered. That recordings of real servers replay through the adapters is tested
in ``test_estate.py``."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from api.demo.replay import Cassette, Exchange, ReplayServer, redact
from api.demo.timeshift import TimeShift

AT = datetime(2026, 11, 24, 10, tzinfo=UTC)
DAY = timedelta(days=1)


def exchange(path: str, response: str, body: str = "", method: str = "GET") -> Exchange:
    headers = {"content-type": "application/json", "date": "Tue, 24 Nov 2026 10:00:00 GMT"}
    return Exchange(method, path, body, 200, headers, response)


def cassette(*exchanges: Exchange) -> Cassette:
    return Cassette("tool", AT, AT + timedelta(minutes=5), list(exchanges))


def test_answers_come_in_recorded_order_and_the_last_repeats() -> None:
    recorded = cassette(exchange("/runs", '{"page": 1}'), exchange("/runs", '{"page": 2}'))
    with ReplayServer(recorded, TimeShift(timedelta(0), AT, AT)) as server:
        pages = [httpx.get(f"{server.url}/runs").json()["page"] for _ in range(3)]
    assert pages == [1, 2, 2]


def test_times_in_answers_and_the_date_header_are_shifted() -> None:
    recorded = cassette(exchange("/run", '{"start": "2026-11-24T09:59:00Z"}'))
    with ReplayServer(recorded, TimeShift(DAY, AT, AT)) as server:
        answer = httpx.get(f"{server.url}/run")
    assert answer.json() == {"start": "2026-11-25T09:59:00Z"}
    assert answer.headers["date"] == "Wed, 25 Nov 2026 10:00:00 GMT"
    assert answer.headers["content-type"] == "application/json"


def test_a_request_asking_with_shifted_times_finds_the_recorded_answer() -> None:
    body = redact(json.dumps({"since": "2026-11-24T09:00:00Z", "limit": 10}))
    recorded = cassette(
        exchange("/runs?after=2026-11-24T09%3A00%3A00Z", '"by query"'),
        exchange("/runs/filter", '"by body"', body=body, method="POST"),
    )
    with ReplayServer(recorded, TimeShift(DAY, AT, AT)) as server:
        by_query = httpx.get(f"{server.url}/runs", params={"after": "2026-11-25T09:00:00Z"})
        by_body = httpx.post(
            f"{server.url}/runs/filter", json={"limit": 10, "since": "2026-11-25T09:00:00Z"}
        )
        other = httpx.post(f"{server.url}/runs/filter", json={"limit": 11})
    assert (by_query.json(), by_body.json()) == ("by query", "by body")
    assert other.status_code == 404
    assert other.json() == {"detail": "not in the recording: POST /runs/filter"}
    assert server.misses == ["POST /runs/filter"]


def test_credentials_are_never_kept_and_any_password_signs_in() -> None:
    kept = redact(b'{"username": "admin", "password": "s3cret"}')
    assert "s3cret" not in kept
    assert json.loads(kept) == {"username": "admin", "password": "<redacted>"}
    recorded = cassette(exchange("/login", '{"session": "s"}', kept, "POST"))
    with ReplayServer(recorded, TimeShift(DAY, AT, AT)) as server:
        answer = httpx.post(f"{server.url}/login", json={"username": "admin", "password": "other"})
    assert answer.json() == {"session": "s"}
    assert redact(b"not json") == "not json"
    assert redact(None) == ""


def test_a_cassette_survives_a_round_trip_byte_for_byte(tmp_path: Path) -> None:
    recorded = cassette(exchange("/a", '{"é": 1}'), exchange("/b", "[]", method="POST"))
    first, second = tmp_path / "a.json.gz", tmp_path / "b.json.gz"
    recorded.save(first)
    Cassette.load(first).save(second)
    assert Cassette.load(first) == recorded
    assert first.read_bytes() == second.read_bytes()
