"""OpenLineage: events that producers push (Airflow, Spark, Flink, dbt, any client) as batches.

Push-only: :meth:`OpenLineageAdapter.fetch` yields nothing, since events arrive at the API's
``POST /api/v1/lineage`` (or ``tempox ingest openlineage``), which checks them with
:func:`check_event` and writes :func:`events_to_batch` of them. The adapter is registered so that
a ``[sources.<name>] kind = "openlineage"`` table names where pushed events are filed.

The mapping into the unified model:

- a job with a ``parent`` run facet is a task of its parent job's pipeline and its run a task run
  of the parent run (an Airflow task of its DAG run, a Spark action of its application); any
  other job is a pipeline and its run a run;
- START and RUNNING are running, COMPLETE success, FAIL failed, ABORT cancelled; the event time
  is when that status was observed, so a late START never undoes a COMPLETE (the store's rule);
- datasets are assets named ``namespace`` + ``name`` (OpenLineage naming), ``symlinks`` are their
  aliases; inputs and outputs are observed lineage edges through the job, and, on a finished
  run, consumed and produced asset events; ``columnLineage`` is stored column lineage;
  ``dataQualityAssertions`` are check results, row counts go on the asset events;
- every facet, known or custom, is kept as JSON under ``meta["openlineage"]``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar

from adapters._openlineage_spec import SpecError, check_event
from catalog.adapter import Adapter, AdapterConfig
from catalog.enums import AssetEventKind, EdgeOrigin, RunStatus
from catalog.records import (
    AssetEventRecord,
    AssetRecord,
    Batch,
    CheckResultRecord,
    ColumnLineageRecord,
    Cursor,
    EdgeRecord,
    NodeRef,
    PipelineRecord,
    RunRecord,
    TaskRecord,
    TaskRunRecord,
)

__all__ = [
    "OpenLineageAdapter",
    "OpenLineageConfig",
    "SpecError",
    "check_event",
    "dataset_uri",
    "event_time",
    "events_to_batch",
    "job_key",
]

STATUSES: Mapping[str, RunStatus] = {
    "START": RunStatus.RUNNING,
    "RUNNING": RunStatus.RUNNING,
    "COMPLETE": RunStatus.SUCCESS,
    "FAIL": RunStatus.FAILED,
    "ABORT": RunStatus.CANCELLED,
}
_DONE = frozenset({"COMPLETE", "FAIL", "ABORT"})
_FRACTION = re.compile(r"(\.\d{6})\d+")


class OpenLineageConfig(AdapterConfig):
    """No keys: events are pushed to the API, nothing is fetched."""


class OpenLineageAdapter(Adapter[OpenLineageConfig]):
    kind: ClassVar[str] = "openlineage"
    config_class: ClassVar[type[AdapterConfig]] = OpenLineageConfig

    def fetch(self, cursor: Cursor | None) -> Iterator[Batch]:
        return iter(())  # push-only: events arrive through the API


def event_time(text: str) -> datetime:
    """An event's time, aware: nanoseconds are cut to microseconds, no zone means UTC."""
    parsed = datetime.fromisoformat(_FRACTION.sub(r"\1", text.strip()))
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def job_key(namespace: str, name: str) -> str:
    return f"{namespace}:{name}"


def dataset_uri(namespace: str, name: str) -> str:
    """OpenLineage's dataset identity as one URI: ``gs://bucket`` + ``a.csv`` is
    ``gs://bucket/a.csv``, ``bigquery`` + ``p.d.t`` is ``bigquery:p.d.t``."""
    if "://" in namespace:
        return f"{namespace.rstrip('/')}/{name.lstrip('/')}"
    return f"{namespace}:{name}"


def events_to_batch(events: Iterable[Mapping[str, Any]], cursor: Cursor | None = None) -> Batch:
    """The records of checked events (see :func:`check_event`), ready for one write."""
    m = _Mapper()
    for event in events:
        m.add(event)
    return m.batch(cursor or {})


class _Mapper:
    def __init__(self) -> None:
        self.pipelines: dict[str, PipelineRecord] = {}
        self.tasks: dict[tuple[str, str], TaskRecord] = {}
        self.runs: list[RunRecord] = []
        self.task_runs: list[TaskRunRecord] = []
        self.assets: dict[str, AssetRecord] = {}
        self.aliases: dict[str, AssetRecord] = {}
        self.asset_events: dict[str, AssetEventRecord] = {}
        self.checks: dict[str, CheckResultRecord] = {}
        self.edges: list[EdgeRecord] = []
        self.columns: list[ColumnLineageRecord] = []

    def batch(self, cursor: Cursor) -> Batch:
        return Batch(
            cursor=cursor,
            pipelines=tuple(self.pipelines.values()),
            tasks=tuple(self.tasks.values()),
            runs=tuple(self.runs),
            task_runs=tuple(self.task_runs),
            assets=(*self.assets.values(), *self.aliases.values()),
            asset_events=tuple(self.asset_events.values()),
            check_results=tuple(self.checks.values()),
            edges=tuple(self.edges),
            column_lineage=tuple(self.columns),
        )

    def add(self, event: Mapping[str, Any]) -> None:
        at = event_time(event["eventTime"])
        if "dataset" in event:  # a DatasetEvent: static metadata about one dataset
            self._dataset(event["dataset"], at)
            return
        job = event["job"]
        parent = ((event.get("run") or {}).get("facets") or {}).get("parent")
        node = self._job(job, parent["job"] if parent else None)
        inputs = [self._dataset(d, at) for d in event.get("inputs") or ()]
        outputs = [self._dataset(d, at) for d in event.get("outputs") or ()]
        for uri in inputs:
            self.edges.append(EdgeRecord(NodeRef.asset(uri), node, EdgeOrigin.OBSERVED, at))
        for uri in outputs:
            self.edges.append(EdgeRecord(node, NodeRef.asset(uri), EdgeOrigin.OBSERVED, at))
        if "run" in event:
            self._run(event, node, at, inputs, outputs)

    def _job(self, job: Mapping[str, Any], parent: Mapping[str, Any] | None = None) -> NodeRef:
        key = job_key(job["namespace"], job["name"])
        if parent is None:
            if key not in self.pipelines:
                meta = {"namespace": job["namespace"], "name": job["name"]}
                self.pipelines[key] = PipelineRecord(key, job["name"], metadata=meta)
            return NodeRef.pipeline(key)
        parent_key = self._job(parent).ref
        if (parent_key, key) not in self.tasks:
            short = job["name"].removeprefix(f"{parent['name']}.")
            kind = ((job.get("facets") or {}).get("jobType") or {}).get("jobType")
            meta = {"namespace": job["namespace"], "name": job["name"]}
            self.tasks[(parent_key, key)] = TaskRecord(
                parent_key, key, short or job["name"], kind, metadata=meta
            )
        return NodeRef.of_task(parent_key, key)

    def _run(
        self,
        event: Mapping[str, Any],
        node: NodeRef,
        at: datetime,
        inputs: Sequence[str],
        outputs: Sequence[str],
    ) -> None:
        run, job = event["run"], event["job"]
        facets = run.get("facets") or {}
        kind = event.get("eventType") or "OTHER"
        status = STATUSES.get(kind, RunStatus.UNKNOWN)
        # OTHER carries metadata only: no observation of the run's state.
        status_at = at if kind in STATUSES else None
        started = at if kind == "START" else None
        ended = at if kind in _DONE else None
        error = (facets.get("errorMessage") or {}).get("message") if kind == "FAIL" else None
        meta = {
            "openlineage": {
                "runId": run["runId"],
                "job": {"namespace": job["namespace"], "name": job["name"]},
                "run_facets": facets,
                "job_facets": job.get("facets") or {},
            }
        }
        parent = facets.get("parent")
        run_id = run["runId"]
        task: str | None = None
        attempt: int | None = None
        if node.task is not None and parent is not None:
            parent_run = parent["run"]["runId"]
            # The parent run may never send an event of its own (a Spark application seen
            # through its actions): a bare run stands for it, yielding to anything it reports.
            self.runs.append(RunRecord(node.ref, parent_run, RunStatus.UNKNOWN))
            ti = (facets.get("airflow") or {}).get("taskInstance") or {}
            try_number, index = ti.get("try_number"), ti.get("map_index")
            attempt = try_number if isinstance(try_number, int) else 1
            map_index = index if isinstance(index, int) else -1
            task = node.task
            self.task_runs.append(
                TaskRunRecord(
                    parent_run,
                    node.task,
                    status,
                    attempt=attempt,
                    map_index=map_index,
                    external_id=run_id,
                    raw_status=kind,
                    started_at=started,
                    ended_at=ended,
                    error=error,
                    metadata=meta,
                    status_at=status_at,
                )
            )
            run_id = parent_run
        else:
            nominal = (facets.get("nominalTime") or {}).get("nominalStartTime")
            self.runs.append(
                RunRecord(
                    node.ref,
                    run_id,
                    status,
                    raw_status=kind,
                    logical_date=event_time(nominal) if isinstance(nominal, str) else None,
                    started_at=started,
                    ended_at=ended,
                    error=error,
                    metadata=meta,
                    status_at=status_at,
                )
            )
        if kind != "COMPLETE":
            return
        own = run["runId"]
        for d, uri in zip(event.get("inputs") or (), inputs, strict=True):
            input_facets = d.get("inputFacets") or {}
            rows = (input_facets.get("dataQualityMetrics") or {}).get("rowCount")
            self._asset_event(uri, AssetEventKind.CONSUMED, at, run_id, task, attempt, own, rows)
            assertions = (input_facets.get("dataQualityAssertions") or {}).get("assertions")
            for a in assertions or ():
                name = a["assertion"] + (f"({a['column']})" if a.get("column") else "")
                self.checks[f"{own}|{uri}|{name}"] = CheckResultRecord(
                    uri,
                    name,
                    bool(a["success"]),
                    at,
                    run_id=run_id,
                    external_id=f"{own}|{uri}|{name}",
                    metadata={"openlineage": a},
                )
        for d, uri in zip(event.get("outputs") or (), outputs, strict=True):
            stats = (d.get("outputFacets") or {}).get("outputStatistics") or {}
            rows = stats.get("rowCount")
            self._asset_event(uri, AssetEventKind.PRODUCED, at, run_id, task, attempt, own, rows)

    def _asset_event(
        self,
        uri: str,
        kind: AssetEventKind,
        at: datetime,
        run_id: str,
        task: str | None,
        attempt: int | None,
        own_run: str,
        rows: object,
    ) -> None:
        key = f"{own_run}|{kind.value}|{uri}"
        self.asset_events[key] = AssetEventRecord(
            uri,
            kind,
            at,
            run_id=run_id,
            task_id=task,
            attempt=attempt,
            row_count=rows if isinstance(rows, int) else None,
            external_id=key,
        )

    def _dataset(self, d: Mapping[str, Any], at: datetime) -> str:
        uri = dataset_uri(d["namespace"], d["name"])
        facets = d.get("facets") or {}
        meta: dict[str, Any] = {
            "openlineage": {"namespace": d["namespace"], "name": d["name"], "facets": facets}
        }
        self.assets[uri] = AssetRecord(uri, metadata=meta)
        for s in (facets.get("symlinks") or {}).get("identifiers") or ():
            alias = dataset_uri(s["namespace"], s["name"])
            if alias != uri:
                self.aliases[alias] = AssetRecord(uri, alias=alias)
        fields = (facets.get("columnLineage") or {}).get("fields") or {}
        for column, lineage in fields.items():
            for f in lineage.get("inputFields") or ():
                transformations = tuple(f.get("transformations") or ())
                if not transformations and lineage.get("transformationType"):
                    # Before facet 1-1-0 a column had one description of how it was made.
                    transformations = (
                        {
                            "type": lineage.get("transformationType"),
                            "description": lineage.get("transformationDescription"),
                        },
                    )
                self.columns.append(
                    ColumnLineageRecord(
                        uri,
                        column,
                        dataset_uri(f["namespace"], f["name"]),
                        f["field"],
                        transformations,
                        at,
                    )
                )
        return uri
