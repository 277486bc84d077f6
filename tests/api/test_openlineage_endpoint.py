"""Bad input at POST /api/v1/lineage: a clear 4xx naming the problem, nothing stored, no 5xx."""

from __future__ import annotations

import copy
import gzip
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from starlette.testclient import TestClient

from api.app import create_app
from api.cli import main
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


_STORED = (t.Source, t.Pipeline, t.Task, t.Run, t.TaskRun, t.Asset, t.AssetEvent, t.LineageEdge)


def _stored(store: Store) -> dict[str, int]:
    with store.session() as s:
        return {
            m.__name__: int(s.scalar(select(func.count()).select_from(m)) or 0) for m in _STORED
        }


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


# -- what the catalog cannot store: refused at the door or by the check, named, nothing written --


def _raw(e: Any) -> bytes:
    """JSON as a producer may send it: NaN allowed, surrogates and NUL escaped."""
    return json.dumps(e).encode()


def _with(path: str, value: Any, **extra: Any) -> dict[str, Any]:
    """A valid event with ``value`` put at the dotted ``path`` (objects made on the way)."""
    e = event(**extra)
    *parents, last = path.split(".")
    node = e
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node.setdefault(key, {})
    node[last] = value
    return e


def _nested(depth: int) -> Any:
    value: Any = 1
    for i in range(depth):
        value = [value] if i % 2 else {"x": value}
    return value


def _refused(http: TestClient, store: Store, body: bytes, *messages: str) -> str:
    before = _stored(store)
    response = http.post(URL, content=body, headers=JSON)
    assert response.status_code == 400, response.text[:500]
    error: str = response.json()["error"]
    for message in messages:
        assert message in error, error
    assert _stored(store) == before  # nothing half-written
    assert http.post(URL, json=event()).status_code == 201  # and still serving
    return error


def test_deep_nesting_is_refused_before_decoding(http: TestClient, store: Store) -> None:
    # The event, run, facets and the facet are four levels: 61 more make 65.
    for depth in (61, 1_000, 100_000):
        deep = _with("run.facets.deep", {"_producer": "p", "_schemaURL": "s", "v": _nested(depth)})
        text = json.dumps(deep) if depth < 500 else _deep_text(deep, depth)
        _refused(http, store, text.encode(), "run.facets.deep.v", "nested deeper than 64 levels")
    # 64 levels is allowed, and a batch's own array does not count.
    ok = event()
    ok["run"]["facets"]["deep"] = {"_producer": "p", "_schemaURL": "s", "v": _nested(60)}
    for body in (ok, [ok]):
        response = http.post(URL, content=json.dumps(body).encode(), headers=JSON)
        assert response.status_code == 201, response.text


def _deep_text(e: dict[str, Any], depth: int) -> str:
    # json.dumps itself recurses: build the deep value's text by hand.
    opening = "".join("[" if i % 2 else '{"x":' for i in reversed(range(depth)))
    closing = "".join("]" if i % 2 else "}" for i in range(depth))
    marker = "__DEEP__"
    e["run"]["facets"]["deep"]["v"] = marker
    return json.dumps(e).replace(f'"{marker}"', f"{opening}1{closing}")


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("job.name", "job\ud800", "job.name: lone surrogate \\ud800 is not allowed"),
        ("run.facets.x.y", "a\udfffb", "run.facets.x.y: lone surrogate \\udfff"),
        ("run.facets.x.y", "a\x00b", "run.facets.x.y: NUL character (\\u0000) is not allowed"),
        ("inputs.0.name", "\x00", "inputs[0].name: NUL character"),
        ("run.facets.x.y\x00z", "v", 'run.facets.x."y\\u0000z": NUL character (\\u0000) in a key'),
        ("run.facets.x.\ud83d", "v", 'run.facets.x."\\ud83d": lone surrogate \\ud83d in a key'),
    ],
)
def test_nul_and_lone_surrogates_are_refused(
    http: TestClient, store: Store, path: str, value: str, message: str
) -> None:
    e = _with(path, value)
    if "x" in e["run"]["facets"]:
        e["run"]["facets"]["x"].update(_producer="p", _schemaURL="s")
    _refused(http, store, _raw(e), message)


def test_a_valid_surrogate_pair_is_one_character(http: TestClient, store: Store) -> None:
    e = event()
    e["job"]["name"] = "emoji \U0001f600"
    assert (
        http.post(URL, content=_raw(e), headers=JSON).status_code == 201
    )  # sent as \\ud83d\\ude00
    with store.session() as s:
        assert s.scalars(select(t.Pipeline)).one().name == "emoji \U0001f600"


@pytest.mark.parametrize(
    ("literal", "shown"),
    [("NaN", "NaN"), ("Infinity", "Infinity"), ("-Infinity", "-Infinity"), ("1e400", "1e400")],
)
def test_nan_and_infinity_are_refused(
    http: TestClient, store: Store, literal: str, shown: str
) -> None:
    e = _with("run.facets.x", {"_producer": "p", "_schemaURL": "s", "y": "__N__"})
    body = json.dumps(e).replace('"__N__"', literal).encode()
    _refused(http, store, body, f"run.facets.x.y: {shown} is not allowed")
    stats = _with("outputs.0.outputFacets.outputStatistics", {"rowCount": "__N__"})
    body = json.dumps([event(), stats]).replace('"__N__"', literal).encode()
    _refused(http, store, body, f"[1].outputs[0].outputFacets.outputStatistics.rowCount: {shown}")


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (
            "run.facets.airflow.taskInstance",
            {"try_number": 2**63},
            "run.facets.airflow.taskInstance.try_number: 9223372036854775808 is out of range",
        ),
        (
            "run.facets.airflow.taskInstance",
            {"map_index": -(2**31) - 1},
            "run.facets.airflow.taskInstance.map_index: -2147483649 is out of range",
        ),
    ],
)
def test_integers_out_of_range_are_refused(
    http: TestClient, store: Store, path: str, value: Any, message: str
) -> None:
    # The Airflow facet names the task run an event is (its attempt and map index).
    e = _with(path, value)
    e["run"]["facets"]["airflow"].update(_producer="p", _schemaURL="s")
    e["run"]["facets"]["parent"] = {
        "run": {"runId": "0193a0b6-2a8e-7c6e-9b1a-3f1c1f0e9a02"},
        "job": {"namespace": "ns", "name": "dag"},
    }
    _refused(http, store, _raw(e), message)


def _flagged(http: TestClient, store: Store, body: bytes, facet: str, message: str) -> None:
    """Stored, the facet kept as sent and named in the answer's warnings."""
    response = http.post(URL, content=body, headers=JSON)
    assert response.status_code == 201, response.text[:500]
    (warning,) = response.json()["warnings"]
    assert warning.startswith(message), warning
    assert f"the facet {facet} is kept as sent, not read" in warning
    with store.session() as s:
        (stored,) = s.scalars(select(t.LineageEvent))
    assert stored.warnings == [warning]
    holder, _, name = facet.rpartition(".")
    node: Any = stored.payload
    for key in holder.replace("[", ".").replace("]", "").split("."):
        node = node[int(key)] if isinstance(node, list) else node[key]
    assert name in node  # kept as sent


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (
            "outputs.0.outputFacets.outputStatistics",
            {"rowCount": 2**63},
            "outputs[0].outputFacets.outputStatistics.rowCount: 9223372036854775808 is out of",
        ),
        (
            "outputs.0.outputFacets.outputStatistics",
            {"rowCount": 1, "size": -(2**63) - 1},
            "outputs[0].outputFacets.outputStatistics.size: -9223372036854775809 is out of range",
        ),
        (
            "inputs.0.inputFacets.dataQualityMetrics",
            {"rowCount": 10**30, "columnMetrics": {}},
            "inputs[0].inputFacets.dataQualityMetrics.rowCount: 1000000000000000000000000000000",
        ),
    ],
)
def test_integers_out_of_range_in_a_facet_flag_the_facet(
    http: TestClient, store: Store, path: str, value: Any, message: str
) -> None:
    e = _with(path, value, kind="COMPLETE")
    _flagged(http, store, _raw(e), re.sub(r"\.(\d+)\.", r"[\1].", path), message)
    with store.session() as s:
        counts = [a.row_count for a in s.scalars(select(t.AssetEvent))]
    assert counts == [None, None]  # the facet is not read


def test_a_row_count_over_32_bits_is_kept_in_the_event(http: TestClient, store: Store) -> None:
    # Marquez reads row counts as Java longs: 5 billion rows is a real table. The column is 32
    # bits on PostgreSQL, so the count goes to the event's metadata.
    e = _with(
        "outputs.0.outputFacets.outputStatistics", {"rowCount": 5_000_000_000}, kind="COMPLETE"
    )
    assert http.post(URL, content=_raw(e), headers=JSON).status_code == 201
    with store.session() as s:
        (produced,) = [e for e in s.scalars(select(t.AssetEvent)) if e.kind == "produced"]
    assert produced.row_count is None
    assert produced.meta == {"openlineage": {"rowCount": 5_000_000_000}}


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("eventTime", "0001-01-01T00:00:00+14:00", "eventTime: '0001-01-01T00:00:00+14:00' is not"),
        ("eventTime", "9999-12-31T23:59:59-14:00", "out of range: in UTC it must fall between"),
        ("eventTime", "0001-01-01T00:00:00Z", "eventTime: '0001-01-01T00:00:00Z' is not a time"),
        ("eventTime", "2024-05-01T24:00:00Z", "eventTime: '2024-05-01T24:00:00Z' is not a time"),
    ],
)
def test_times_out_of_range_are_refused(
    http: TestClient, store: Store, path: str, value: Any, message: str
) -> None:
    _refused(http, store, _raw(_with(path, value)), message)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            {"nominalStartTime": "0001-01-01T00:00:00+14:00"},
            "run.facets.nominalTime.nominalStartTime: '0001-01-01T00:00:00+14:00' is not a time",
        ),
        (
            {"nominalStartTime": "2024-05-01T10:00:00Z", "nominalEndTime": "2024-05-01T24:00Z"},
            "run.facets.nominalTime.nominalEndTime: '2024-05-01T24:00Z' is not a time",
        ),
    ],
)
def test_times_out_of_range_in_a_facet_flag_the_facet(
    http: TestClient, store: Store, value: Any, message: str
) -> None:
    value.update(_producer="p", _schemaURL="s")
    _flagged(
        http, store, _raw(_with("run.facets.nominalTime", value)), "run.facets.nominalTime", message
    )
    run = Catalog(store).run_by_external_id("openlineage", RUN_ID)
    assert run is not None
    assert run.logical_date is None  # not read
    assert run.meta["openlineage"]["run_facets"]["nominalTime"] == value  # kept as sent


def test_extreme_times_inside_the_range_are_kept(http: TestClient, store: Store) -> None:
    for at in ("0001-01-02T00:00:00Z", "9999-12-30T23:59:59.999999999Z"):
        e = event(at=at)
        e["run"]["runId"] = at
        assert http.post(URL, json=e).status_code == 201
    with store.session() as s:
        years = sorted(r.started_at.year for r in s.scalars(select(t.Run)) if r.started_at)
    assert years == [1, 9999]


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("job.name", "j" * (4 * 1024 * 1024), "job.name: 4194304 characters, more than the 1000"),
        ("job.namespace", "n" * 1001, "job.namespace: 1001 characters, more than the 1000"),
        ("outputs.0.name", "o" * 5000, "outputs[0].name: 5000 characters"),
        ("inputs.0.namespace", "i" * 1001, "inputs[0].namespace: 1001 characters"),
        ("run.runId", "r" * 1001, "run.runId: 1001 characters"),
        # Within the characters, over the bytes a key may take (3 bytes a character).
        ("job.name", "語" * 900, "job: its identity (namespace:name) is 2703 bytes in UTF-8"),
        (
            "run.runId",
            "語" * 900,
            "run.runId: the run id is 2700 bytes in UTF-8, more than the 2400",
        ),
    ],
)
def test_names_too_long_are_refused(
    http: TestClient, store: Store, path: str, value: Any, message: str
) -> None:
    _refused(http, store, _raw(_with(path, value)), message)


def test_keys_built_from_long_names_are_refused(http: TestClient, store: Store) -> None:
    # Each name within its 1,000 characters, but the asset event's key (run id, kind, dataset)
    # would be 3,011 bytes: more than PostgreSQL indexes.
    e = event(kind="COMPLETE")
    e["run"]["runId"] = "r" * 1000
    e["outputs"] = [{"namespace": "s3://" + "b" * 995, "name": "n" * 1000}]
    _refused(
        http,
        store,
        _raw(e),
        "outputs[0]: the key of its asset event (run.runId|kind|namespace/name) is 3011 bytes",
    )


def test_a_dataset_event_with_a_long_name_is_refused(http: TestClient, store: Store) -> None:
    e = {
        "eventTime": "2024-05-01T10:00:00Z",
        "producer": "https://example.com/producer",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetEvent",
        "dataset": {"namespace": "s3://lake", "name": "x" * 2000},
    }
    _refused(http, store, _raw(e), "dataset.name: 2000 characters")


def test_names_at_the_limit_are_kept(http: TestClient, store: Store) -> None:
    e = event(kind="COMPLETE")
    e["job"] = {"namespace": "n" * 1000, "name": "j" * 1000}
    e["outputs"] = [{"namespace": "s3://" + "b" * 995, "name": "o" * 1000}]
    e["inputs"] = []
    e["run"]["runId"] = "r" * 300
    assert http.post(URL, content=_raw(e), headers=JSON).status_code == 201, "stored"
    assert _stored(store)["Asset"] == 1


def test_the_cli_refuses_the_same(
    tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `tempox ingest openlineage` decodes and checks with the intake's parse_events.
    monkeypatch.setenv("TEMPOX_DATABASE_URL", sqlite_url)
    monkeypatch.chdir(tmp_path)
    bad = tmp_path / "bad.ndjson"
    nul = _with("run.facets.x", {"_producer": "p", "_schemaURL": "s", "y": "a\x00b"})
    lines = [event(), _with("job.name", "j" * 1001), nul]
    bad.write_text("\n".join(json.dumps(e) for e in lines) + "\n")
    result = CliRunner().invoke(main, ["ingest", "openlineage", str(bad)])
    assert result.exit_code == 1
    assert "bad.ndjson: line 2: job.name: 1001 characters" in result.output
    bad.write_text("\n".join(json.dumps(e) for e in (lines[0], lines[2])) + "\n")
    result = CliRunner().invoke(main, ["ingest", "openlineage", str(bad)])
    assert result.exit_code == 1
    assert "line 2: run.facets.x.y: NUL character" in result.output
    store = Store(sqlite_url)
    assert _stored(store)["Run"] == 0
    store.close()
