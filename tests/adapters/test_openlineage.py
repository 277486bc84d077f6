"""Mapping OpenLineage events (the compatibility corpus) into catalog records."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from openlineage.client.generated import base

from adapters.openlineage import (
    OpenLineageAdapter,
    OpenLineageConfig,
    check_event,
    dataset_uri,
    event_time,
    events_to_batch,
    run_identity,
)
from catalog.enums import AssetEventKind, RunStatus
from tests.corpus import events


def test_airflow_tasks_belong_to_their_dag_run() -> None:
    b = events_to_batch(events("airflow"))
    assert {p.external_id for p in b.pipelines} == {"airflow:BQ", "airflow:dag", "airflow:gcs_hook"}
    upload = next(x for x in b.tasks if x.external_id == "airflow:BQ.upload")
    assert (upload.pipeline_id, upload.name) == ("airflow:BQ", "upload")
    done = [
        tr
        for tr in b.task_runs
        if tr.task_id == "airflow:BQ.upload" and tr.raw_status == "COMPLETE"
    ]
    assert done[0].run_id == "01936893-9751-7a91-a2a0-a51101a3970c"
    assert done[0].status is RunStatus.SUCCESS
    dag = next(r for r in b.runs if r.raw_status == "START" and r.pipeline_id == "airflow:BQ")
    assert dag.logical_date is not None
    assert "processing_engine" in dag.metadata["openlineage"]["run_facets"]
    produced = {e.asset_uri for e in b.asset_events if e.kind is AssetEventKind.PRODUCED}
    assert "bigquery:mock-project.test.upload" in produced


def test_column_lineage_and_symlinks() -> None:
    b = events_to_batch(events("CLL"))
    cols = {(c.output_column, c.input_uri, c.input_column) for c in b.column_lineage}
    assert ("ident", "file:/tmp/cll_test/cll_source1", "a") in cols
    aliases = {a.alias for a in b.assets if a.alias}
    assert "file:/tmp/cll_test:default.tbl1" in aliases


def test_quality_facets_and_errors() -> None:
    event = events("simple_run_event")[0]
    event["eventType"] = "FAIL"
    event["run"]["facets"]["errorMessage"] = {"message": "oops", "programmingLanguage": "SQL"}
    (run,) = events_to_batch([event]).runs
    assert (run.status, run.error) == (RunStatus.FAILED, "oops")
    event["eventType"] = "COMPLETE"
    event["inputs"][0]["inputFacets"] = {
        "dataQualityMetrics": {"rowCount": 42, "columnMetrics": {}},
        "dataQualityAssertions": {
            "assertions": [{"assertion": "not_null", "success": False, "column": "id"}]
        },
    }
    b = events_to_batch([event])
    (check,) = b.check_results
    assert (check.check_name, check.passed) == ("not_null(id)", False)
    consumed = next(e for e in b.asset_events if e.kind is AssetEventKind.CONSUMED)
    assert consumed.row_count == 42


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-01T10:00:00Z", datetime(2024, 5, 1, 10, tzinfo=UTC)),
        ("2024-05-01T10:00:00", datetime(2024, 5, 1, 10, tzinfo=UTC)),
        ("2024-05-01T12:00:00.123456789+02:00", datetime(2024, 5, 1, 10, 0, 0, 123456, tzinfo=UTC)),
    ],
)
def test_event_times(text: str, expected: datetime) -> None:
    assert event_time(text) == expected


def test_names_and_push_only_fetch() -> None:
    assert dataset_uri("gs://b/", "/a.csv") == "gs://b/a.csv"
    assert dataset_uri("bigquery", "p.d.t") == "bigquery:p.d.t"
    assert list(OpenLineageAdapter("ol", OpenLineageConfig()).fetch(None)) == []


def test_a_broken_facet_is_flagged_and_not_read() -> None:
    event = events("simple_run_event")[0]
    event["eventType"] = "COMPLETE"
    event["inputs"][0]["inputFacets"] = {
        "dataQualityMetrics": {"rowCount": 42},  # no columnMetrics
        "dataQualityAssertions": {"assertions": [{"assertion": "unique", "success": True}]},
    }
    checked = check_event(event)
    assert list(checked.problems) == ["inputs[0].inputFacets.dataQualityMetrics"]
    (warning,) = checked.warnings
    assert warning == (
        "inputs[0].inputFacets.dataQualityMetrics.columnMetrics: required field is missing "
        "(the facet inputs[0].inputFacets.dataQualityMetrics is kept as sent, not read)"
    )
    b = events_to_batch([checked])
    consumed = next(e for e in b.asset_events if e.kind is AssetEventKind.CONSUMED)
    assert consumed.row_count is None
    assert [c.check_name for c in b.check_results] == ["unique"]


def test_a_job_event_may_carry_an_event_type() -> None:
    event = events("simple_run_event")[0]
    del event["run"]
    assert check_event(event).kind is base.JobEvent


def test_the_first_event_decides_the_run_and_later_ones_follow() -> None:
    start, complete = events("simple_run_event")[0], events("simple_run_event")[0]
    parent = {"run": {"runId": "dag-run"}, "job": {"namespace": "ns", "name": "dag"}}
    start["eventType"], complete["eventType"] = "START", "COMPLETE"
    start["run"]["facets"]["parent"] = parent
    assert run_identity(start) == {"parent": parent, "attempt": 1, "map_index": -1}
    assert run_identity(complete) == {}
    b = events_to_batch([start, complete])
    assert [p.external_id for p in b.pipelines] == ["ns:dag"]
    assert [tr.status for tr in b.task_runs] == [RunStatus.RUNNING, RunStatus.SUCCESS]
    # Decided before (the store remembers it): a COMPLETE alone follows too.
    alone = events_to_batch([complete], runs={complete["run"]["runId"]: run_identity(start)})
    assert [tr.run_id for tr in alone.task_runs] == ["dag-run"]
