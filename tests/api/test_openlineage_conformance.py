"""Every corpus scenario, sent by the real openlineage-python HTTP transport to a real server."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import Job, Run, RunEvent, RunState
from openlineage.client.transport.http import HttpConfig, HttpTransport

from catalog.service import Catalog
from catalog.store.store import Store
from tests.corpus import NAMES, events, state
from tests.peers.tempox import serve

# What each scenario's scenario.md (and expected/dataplex where there is one) describes.
EXPECTED: dict[str, dict[str, Any]] = {
    "airflow": {
        "pipelines": ["airflow:BQ", "airflow:dag", "airflow:gcs_hook"],
        "runs": 3,
        "task_runs": 13,
        "links": 12,  # expected/dataplex/airflow/validation/links
    },
    "simple_run_event": {"pipelines": ["job_namespace:job_name"], "runs": 1, "links": 1},
    "spark_dataproc_simple_producer_test": {
        "pipelines": ["default:cl_i_test_application"],
        "runs": 1,
        "task_runs": 1,
        "links": 1,
    },
    "CLL": {"runs": 1, "task_runs": 3, "links": 2, "columns": 10},
    # One Spark application, six actions with runIds of their own; two of them are both called
    # `drop_table` and must stay two task runs. Its one dataset link is t1 -> t2.
    "spark_dataproc_simple_producer_test_complete": {"runs": 1, "task_runs": 6, "links": 1},
    "spark_dataproc_bigquery_shakespare": {"runs": 1, "task_runs": 2},
}


@pytest.fixture
def server(store: Store) -> Iterator[str]:
    with serve(store) as url:
        yield url


def _transport(url: str, compression: str | None = None) -> HttpTransport:
    options: dict[str, Any] = {"url": url}
    if compression:
        options["compression"] = compression
    return HttpTransport(HttpConfig.from_dict(options))


def _send(url: str, batch: list[dict[str, Any]]) -> None:
    transport = _transport(url)
    try:
        for event in batch:
            # The transport serialises a dict as it would an attrs event, byte for byte what a
            # producer's client sends; the corpus' events are kept exactly as recorded.
            transport.emit(event)  # type: ignore[arg-type]
    finally:
        transport.close()


def _check(name: str, got: dict[str, Any]) -> None:
    want = EXPECTED.get(name, {})
    if "pipelines" in want:
        assert got["pipelines"] == want["pipelines"]
    for key in ("runs", "task_runs", "links", "columns"):
        if key in want:
            assert len(got[key]) == want[key], (key, got[key])
    # Every run that reported an end is finished, and no run is left at a START's state.
    for _pipeline, status, _started, ended, _error in got["runs"].values():
        assert status in ("success", "unknown")
        assert status == "unknown" or ended is not None


@pytest.mark.parametrize("name", NAMES)
def test_scenario_through_the_client(store: Store, server: str, name: str) -> None:
    _send(server, events(name))
    once = state(store)
    _check(name, once)

    # Every event again, twice, in shuffled order: the catalog does not move.
    again = events(name) * 2
    random.Random(name).shuffle(again)
    _send(server, again)
    assert state(store) == once


@pytest.mark.parametrize("name", ["airflow", "CLL"])
def test_shuffled_first_delivery_ends_the_same(
    store: Store, server: str, name: str, tmp_path: Any
) -> None:
    ordered = Store(f"sqlite:///{tmp_path / 'ordered.db'}")
    try:
        from api.openlineage import LineageIntake

        LineageIntake(ordered).write(events(name))
        shuffled = events(name) * 2
        random.Random(7).shuffle(shuffled)
        _send(server, shuffled)
        assert state(store) == state(ordered)
    finally:
        ordered.close()


def test_the_client_itself_with_gzip_and_a_custom_facet(store: Store, server: str) -> None:
    from openlineage.client.facet_v2 import RunFacet

    client = OpenLineageClient(transport=_transport(server, "gzip"))
    facet = RunFacet().with_additional_properties(team="data-eng", ünïcode="✓")
    run = Run(runId="0193a0b6-2a8e-7c6e-9b1a-3f1c1f0e9a01", facets={"myCompany_custom": facet})
    job = Job(namespace="ns", name="Ünïcode job")
    client.emit(
        RunEvent(eventType=RunState.START, eventTime="2024-05-01T10:00:00Z", run=run, job=job)
    )
    client.emit(
        RunEvent(
            eventType=RunState.COMPLETE,
            eventTime="2024-05-01T12:00:05.123456789+02:00",
            run=Run(runId=run.runId),
            job=job,
        )
    )
    got = Catalog(store).run_by_external_id("openlineage", run.runId)
    assert got is not None
    assert got.status == "success"
    assert got.duration_s == pytest.approx(5.123456)
    facets = got.meta["openlineage"]["run_facets"]
    assert facets["myCompany_custom"]["team"] == "data-eng"
    assert facets["myCompany_custom"]["ünïcode"] == "✓"
