"""Marquez's own test events (tests/fixtures/marquez, see its SOURCE.md), posted to Tempox's real
HTTP intake (uvicorn on 127.0.0.1) as Marquez's tests post them to Marquez, with what those tests
expect: the status codes, and the jobs, runs and datasets that the events describe."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from adapters.openlineage import dataset_uri, job_key
from catalog.store import tables as t
from catalog.store.store import Store
from tests.peers.tempox import serve

MARQUEZ = Path(__file__).resolve().parents[1] / "fixtures" / "marquez"
EVENTS = MARQUEZ / "open_lineage"


def load(path: Path) -> dict[str, Any]:
    event: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return event


@pytest.fixture
def url(store: Store) -> Iterator[str]:
    with serve(store) as base:
        yield f"{base}/api/v1/lineage"


def send(url: str, body: str | bytes) -> httpx.Response:
    return httpx.post(url, content=body, headers={"content-type": "application/json"}, timeout=30)


def catalog(store: Store) -> dict[str, Any]:
    with store.session() as s:
        pipelines = {p.id: p for p in s.scalars(select(t.Pipeline))}
        tasks = {x.id: x for x in s.scalars(select(t.Task))}
        assets = {a.id: a for a in s.scalars(select(t.Asset))}
        edges = list(s.scalars(select(t.LineageEdge)))
        runs = {r.external_id: r for r in s.scalars(select(t.Run))}
        task_runs = {x.external_id: x for x in s.scalars(select(t.TaskRun))}
        checks = {
            (assets[c.asset_id].uri, c.check_name): c.passed
            for c in s.scalars(select(t.CheckResult))
        }

    def node(kind: str, i: int) -> str:
        if kind == "asset":
            return assets[i].uri
        return pipelines[i].external_id if kind == "pipeline" else tasks[i].external_id

    return {
        "pipelines": {p.external_id: p for p in pipelines.values()},
        "tasks": {x.external_id for x in tasks.values()},
        "assets": {a.uri: a for a in assets.values()},
        "reads": {(node(e.from_kind, e.from_id), node(e.to_kind, e.to_id)) for e in edges},
        "runs": runs,
        "task_runs": task_runs,
        "checks": checks,
    }


def _job_node(event: dict[str, Any]) -> str:
    return job_key(event["job"]["namespace"], event["job"]["name"])


# OpenLineageIntegrationTest.data(): each accepted with 201, in a catalog of its own; Marquez
# leaves event_large out of it (its FIXME) but reads it in OpenLineageServiceIntegrationTest.
ACCEPTED = [
    "event_full.json",
    "event_simple.json",
    "event_without_schema_url.json",
    "event_required_only.json",
    "event_unicode.json",
    "event_large.json",
    "null_nominal_end_time.json",
    "event_namespace_naming.json",
    # LineageEventTest: read as valid events.
    "event_required_nanoseconds.json",
    "event_required_no_timezone.json",
    "event_additional_facet.json",
]


@pytest.mark.parametrize("name", ACCEPTED)
def test_run_events_marquez_accepts(store: Store, url: str, name: str) -> None:
    text = (EVENTS / name).read_text(encoding="utf-8")
    response = send(url, text.encode())
    assert response.status_code == 201, response.text
    event = json.loads(text)
    got = catalog(store)
    run_id = event["run"]["runId"]
    parent = (event["run"].get("facets") or {}).get("parent")
    if parent is None:
        # (5) The job, with its run.
        assert _job_node(event) in got["pipelines"]
        assert got["runs"][run_id].pipeline_id == got["pipelines"][_job_node(event)].id
    else:
        # A task of its parent job, its run a task run of the parent's run.
        assert _job_node(event) in got["tasks"]
        assert job_key(parent["job"]["namespace"], parent["job"]["name"]) in got["pipelines"]
        assert got["task_runs"][run_id].external_id == run_id
        assert parent["run"]["runId"] in got["runs"]
    status = {"COMPLETE": "success", "START": "running"}.get(event.get("eventType", ""), "unknown")
    ran = got["task_runs"][run_id] if parent else got["runs"][run_id]
    assert ran.status == status
    # (4) Every input and output dataset, linked to the job.
    job = _job_node(event)
    for d in event.get("inputs") or ():
        uri = dataset_uri(d["namespace"], d["name"])
        assert uri in got["assets"]
        assert any(u == uri and j.endswith(job) for u, j in got["reads"]), (uri, job)
    for d in event.get("outputs") or ():
        uri = dataset_uri(d["namespace"], d["name"])
        assert any(j.endswith(job) and u == uri for j, u in got["reads"]), (job, uri)
        # Dataset facets are kept as sent.
        kept = got["assets"][uri].meta["openlineage"]["facets"]
        assert kept == {**kept, **(d.get("facets") or {})}
    # The run's facets are kept as sent.
    assert ran.meta["openlineage"]["run_facets"] == (event["run"].get("facets") or {})
    # And posting it again stores nothing twice.
    again = send(url, text.encode())
    assert again.status_code == 201
    assert again.json()["duplicates"] == 1
    assert catalog(store).keys() == got.keys()


def test_event_full_keeps_its_incomplete_facet_and_reads_the_rest(store: Store, url: str) -> None:
    # Marquez accepts a dataQualityMetrics facet without the columnMetrics the spec requires.
    response = send(url, (EVENTS / "event_full.json").read_bytes())
    assert response.status_code == 201
    (warning,) = response.json()["warnings"]
    assert warning.startswith(
        "inputs[0].inputFacets.dataQualityMetrics.columnMetrics: required field is missing"
    )
    got = catalog(store)
    table = "my-datasource-namespace:instance.schema.table"
    assert got["checks"] == {
        (table, "row_count_equal_to"): True,
        (table, "no_null_values(id)"): True,
    }
    # Its job says FLINK STREAMING; as a task of myjob.mytask's pipeline it has no pipeline's
    # processing type, but its parent's run has it.
    assert got["task_runs"]["ea041791-68bc-4ae1-bd89-4c8106a157e4"].status == "success"


def test_a_dataset_event(store: Store, url: str) -> None:
    # testSendDatasetEvent: 201, the dataset with its facets as sent.
    event = load(EVENTS / "event_dataset_event.json")
    assert send(url, json.dumps(event)).status_code == 201
    got = catalog(store)
    uri = dataset_uri(event["dataset"]["namespace"], event["dataset"]["name"])
    assert got["assets"][uri].meta["openlineage"]["facets"] == event["dataset"]["facets"]
    assert got["runs"] == {}


def test_a_job_event_that_also_carries_an_event_type(store: Store, url: str) -> None:
    # testSendJobEvent: 201, the job with its inputs and outputs, and no run.
    event = load(EVENTS / "event_job_event.json")
    assert "eventType" in event
    assert "run" not in event
    response = send(url, json.dumps(event))
    assert response.status_code == 201, response.text
    got = catalog(store)
    job = "my-scheduler-namespace:myjob"
    assert set(got["pipelines"]) == {job}
    assert got["runs"] == {}
    assert got["reads"] == {
        ("my-datasource-namespace:instance.schema.input-1", job),
        (job, "my-datasource-namespace:instance.schema.output-1"),
    }
    assets = got["assets"]
    assert assets["my-datasource-namespace:instance.schema.input-1"].description == (
        "input documentation"
    )


def test_the_listener_events_make_one_run(store: Store, url: str) -> None:
    # OpenLineageServiceIntegrationTest: RUNNING then COMPLETE of one run, three inputs and two
    # outputs between them, one run transition each.
    for name in ("1.json", "2.json"):
        assert send(url, (EVENTS / "listener" / name).read_bytes()).status_code == 201
    got = catalog(store)
    (run,) = got["runs"].values()
    assert (run.external_id, run.status) == ("5e58a95c-1c71-4231-8984-ac172d5566cf", "success")
    job = "my-scheduler-namespace:myjob"
    reads = {u for u, j in got["reads"] if j == job}
    writes = {u for j, u in got["reads"] if j == job}
    assert len(reads) == 3
    assert len(writes) == 2
    # Events of a run are accumulative: its COMPLETE read and wrote what both named (Marquez's
    # last input update has 3 datasets, its output update 2).
    with store.session() as s:
        assets = {a.id: a.uri for a in s.scalars(select(t.Asset))}
        done = {(e.kind, assets[e.asset_id]) for e in s.scalars(select(t.AssetEvent))}
    assert {u for k, u in done if k == "consumed"} == reads
    assert {u for k, u in done if k == "produced"} == writes


def body(template: str) -> str:
    return template.replace("'", '"')


# testSendOpenLineageEventFailsValidation (Marquez answers 422), the JSON processing failure and
# the bad argument (Marquez answers 400): Tempox refuses each with a 400 naming the field.
_BASE = (
    "{'eventTime': '2021-11-03T10:53:52.427343', 'eventType': 'COMPLETE', "
    "'inputs': %s, 'job': %s, 'outputs': %s, 'producer': 'me', 'run': %s}"
)
_INPUT = "[{'facets': {}, 'name': 'OPEN_LINEAGE_DEMO.DEMO.SOURCE_TABLE_1', 'namespace': 'n1'}]"
_JOB = "{'facets': {}, 'name': 'testing_name_1', 'namespace': 'testing_namespace_1'}"
_RUN = "{'facets': {}, 'runId': 'dae0d60a-6010-4c37-980e-c5270f5a6be4'}"
REFUSED = [
    (
        _BASE % ("[{'facets': {}, 'name': null, 'namespace': 'n1'}]", _JOB, "[]", _RUN),
        "inputs[0].name: must not be null",
    ),
    (
        _BASE
        % (
            _INPUT,
            _JOB,
            "[{'facets': {'schema': {'_producer': 'p', '_schemaURL': 's', "
            "'fields': [{'assertion': 'a', 'success': true}]}}, 'name': 't', 'namespace': 'n1'}]",
            _RUN,
        ),
        "outputs[0].facets.schema.fields[0].name: required field is missing",
    ),
    (
        _BASE % (_INPUT, "{'facets': {}, 'name': null, 'namespace': 'n1'}", "[]", _RUN),
        "job.name: must not be null",
    ),
    (_BASE % (_INPUT, _JOB, "[]", "{'facets': {}, 'runId': null}"), "run.runId: must not be null"),
    (
        _BASE
        % (
            _INPUT,
            _JOB,
            "[]",
            "{'facets': {'parent': {'_producer': 'me', '_schemaURL': 'https://me', 'run': {}, "
            "'job': {'namespace': 'n', 'name': 'myjob.mytask'}}}, "
            "'runId': 'dae0d60a-6010-4c37-980e-c5270f5a6be4'}",
        ),
        "run.facets.parent.run.runId: required field is missing",
    ),
    (
        "{'eventTime': '2021-11-03', 'eventType': 'START', 'inputs': [], 'job': {'facets': {}, "
        "'name': 'job', 'namespace': 'openlineage'}, 'outputs': [], 'run': {'facets': {}, "
        "'runId': '123e4567-e89b-12d3-a456-426614174000'}, 'producer': 'me'}",
        "eventTime: '2021-11-03' is invalid: Parsed date-time has to contain time",
    ),
    (
        _BASE
        % (
            "[{'name': 'the_table', 'namespace': "
            "'sqlserver://myhost:3342;user=auser;password=SECRET;database=TheDatabase'}]",
            _JOB,
            "[]",
            _RUN,
        ),
        "inputs[0].namespace: carries a password",
    ),
]


@pytest.mark.parametrize(("template", "message"), REFUSED)
def test_events_marquez_refuses_are_refused(
    store: Store, url: str, template: str, message: str
) -> None:
    response = send(url, body(template))
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error.startswith(message), error
    assert "SECRET" not in response.text
    assert catalog(store)["runs"] == {}


APPLES = sorted((MARQUEZ / "apples").glob("*.json"))


def test_the_apples_make_one_lineage_graph(store: Store, url: str) -> None:
    # graphql/LineageTest: eight runs, then the lineage from prepare_apple_filling, depth 10.
    for path in APPLES:
        assert send(url, path.read_bytes()).status_code == 201, path.name
    got = catalog(store)
    assert len(got["runs"]) == 8
    assert all(r.status == "success" for r in got["runs"].values())
    assert set(got["pipelines"]) == {
        f"grandmas.kitchen:{j}"
        for j in (
            "gather_apples",
            "prepare_apple_filling",
            "prepare_apple_cider",
            "prepare_vinegar",
            "prepare_apple_pie",
        )
    }
    with httpx.Client(base_url=url.removesuffix("/api/v1/lineage")) as client:
        pipeline = next(p for p in got["pipelines"].values() if p.name == "prepare_apple_filling")
        query = """query($id: ID!) { lineage(node: {pipeline: $id}, direction: BOTH, depth: 10) {
          ... on LineageGraph { nodes { entity { __typename ... on Asset { uri }
          ... on Pipeline { name } } } } } }"""
        answer = client.post(
            "/graphql", json={"query": query, "variables": {"id": str(pipeline.id)}}
        )
    assert answer.status_code == 200
    nodes = answer.json()["data"]["lineage"]["nodes"]
    names = {n["entity"].get("uri") or n["entity"].get("name") for n in nodes}
    # Upstream: the apples and both pickings' orchards, the cinnamon and the sugar (the second
    # filling); downstream: the filling and the pies. Both gathering runs are one job.
    assert {
        "laurents-orchard:red.delicious",
        "backyard:crab.apples",
        "gather_apples",
        "grandmas.kitchen:apples",
        "grandmas.kitchen:cinnamon",
        "cupboard:sugar",
        "prepare_apple_filling",
        "grandmas.kitchen:apple.filling",
        "prepare_apple_pie",
        "grandmas.kitchen:apple.pie",
    } <= names
    # Produced: each output once per run.
    with store.session() as s:
        produced = [e for e in s.scalars(select(t.AssetEvent)) if e.kind == "produced"]
    assert len(produced) == 8
