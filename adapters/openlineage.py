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

:func:`check_event` is the spec's check (:mod:`adapters._openlineage_spec`) and then what the
catalog can store: identifiers of at most :data:`MAX_NAME_CHARS` characters, keys built from
them of at most :data:`MAX_KEY_BYTES` bytes (PostgreSQL indexes no longer value), attempts and map
indexes that fit the catalog's 32-bit columns.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar, TypeGuard

from openlineage.client.generated import base

from adapters import _openlineage_spec as spec
from adapters._openlineage_spec import SpecError, parse_time
from catalog.adapter import Adapter, AdapterConfig
from catalog.enums import AssetEventKind, EdgeOrigin, RunStatus
from catalog.identity import canonical
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
    "INT32_MAX",
    "INT32_MIN",
    "MAX_KEY_BYTES",
    "MAX_NAME_CHARS",
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

# A namespace, name, run id, column or assertion: generous (the public corpus' longest is 155),
# and a clear refusal instead of a database's error for a megabyte of name.
MAX_NAME_CHARS = 1_000
# PostgreSQL refuses a B-tree entry over 2,704 bytes, and the catalog keys pipelines, tasks,
# runs, assets, aliases, asset events and checks by text built from these identifiers. The
# margin leaves room for the other columns of a key and for identity rules' rewrites.
MAX_KEY_BYTES = 2_400
# Attempts and map indexes are INTEGER columns (32 bits on PostgreSQL), and so are row counts.
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


class OpenLineageConfig(AdapterConfig):
    """No keys: events are pushed to the API, nothing is fetched."""


class OpenLineageAdapter(Adapter[OpenLineageConfig]):
    kind: ClassVar[str] = "openlineage"
    config_class: ClassVar[type[AdapterConfig]] = OpenLineageConfig

    def fetch(self, cursor: Cursor | None) -> Iterator[Batch]:
        return iter(())  # push-only: events arrive through the API


def check_event(event: object) -> type[base.BaseEvent]:
    """Raise :class:`SpecError` unless ``event`` is a valid event the catalog can store.

    Returns the event's class (see :func:`adapters._openlineage_spec.check_event`).
    """
    cls = spec.check_event(event)
    if isinstance(event, dict):  # always, once the spec's check passed
        _check_storable(event)
    return cls


def event_time(text: str) -> datetime:
    """An event's time in UTC: nanoseconds are cut to microseconds, no zone means UTC."""
    return parse_time(text)


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
        if spec.event_class(event) is base.DatasetEvent:  # static metadata about one dataset
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
            ti = _task_instance(facets)
            try_number, index = ti.get("try_number"), ti.get("map_index")
            attempt = try_number if _is_int(try_number) else 1
            map_index = index if _is_int(index) else -1
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
                name = _check_name(a)
                self.checks[_check_key(own, uri, name)] = CheckResultRecord(
                    uri,
                    name,
                    bool(a["success"]),
                    at,
                    run_id=run_id,
                    external_id=_check_key(own, uri, name),
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
        key = _event_key(own_run, kind, uri)
        # A count the column cannot hold (2**31 rows or more: the column is 32 bits on
        # PostgreSQL) is kept in the event's metadata instead.
        count = rows if _is_int(rows) else None
        column = count if count is not None and INT32_MIN <= count <= INT32_MAX else None
        self.asset_events[key] = AssetEventRecord(
            uri,
            kind,
            at,
            run_id=run_id,
            task_id=task,
            attempt=attempt,
            row_count=column,
            external_id=key,
            metadata={"openlineage": {"rowCount": count}} if column != count else {},
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


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _task_instance(run_facets: Mapping[str, Any]) -> Mapping[str, Any]:
    """The Airflow facet's ``taskInstance``: a custom facet, so any shape may come."""
    airflow = run_facets.get("airflow")
    ti = airflow.get("taskInstance") if isinstance(airflow, dict) else None
    return ti if isinstance(ti, dict) else {}


def _event_key(own_run: str, kind: AssetEventKind, uri: str) -> str:
    return f"{own_run}|{kind.value}|{uri}"


def _check_name(assertion: Mapping[str, Any]) -> str:
    column = assertion.get("column")
    return str(assertion["assertion"]) + (f"({column})" if column else "")


def _check_key(own_run: str, uri: str, name: str) -> str:
    return f"{own_run}|{uri}|{name}"


# -- what the catalog can store ---------------------------------------------------------------


def _check_storable(event: Mapping[str, Any]) -> None:
    """Raise :class:`SpecError` for an identifier, key or number the catalog could not store.

    ``event`` has passed the spec's check: every field read here has its spec's type.
    """
    if spec.event_class(event) is base.DatasetEvent:
        _dataset_keys(event["dataset"], "dataset", None)
        return
    job = event["job"]
    _job_key(job, "job")
    run = event.get("run")
    run_id: str | None = None
    if run is not None:
        run_id = run["runId"]
        _name(run["runId"], "run.runId")
        _key(run["runId"], "run.runId", "the run id")
        facets = run.get("facets") or {}
        parent = facets.get("parent")
        if parent is not None:
            where = "run.facets.parent"
            _job_key(parent["job"], f"{where}.job")
            _name(parent["run"]["runId"], f"{where}.run.runId")
            _key(parent["run"]["runId"], f"{where}.run.runId", "the run id")
        ti = _task_instance(facets)
        for field in ("try_number", "map_index"):
            value = ti.get(field)
            if _is_int(value) and not INT32_MIN <= value <= INT32_MAX:
                raise SpecError(
                    f"run.facets.airflow.taskInstance.{field}",
                    f"{value} is out of range (the catalog keeps it in 32 bits: "
                    f"{INT32_MIN}..{INT32_MAX})",
                )
    for side in ("inputs", "outputs"):
        for i, d in enumerate(event.get(side) or ()):
            _dataset_keys(d, f"{side}[{i}]", run_id)


def _job_key(job: Mapping[str, Any], where: str) -> None:
    _name(job["namespace"], f"{where}.namespace")
    _name(job["name"], f"{where}.name")
    _key(job_key(job["namespace"], job["name"]), where, "its identity (namespace:name)")


def _dataset_keys(d: Mapping[str, Any], where: str, run_id: str | None) -> None:
    uri = _dataset_uri(d, where)
    if run_id is not None:
        # Asset events are keyed by run, kind and dataset (see _Mapper._asset_event).
        key = _event_key(run_id, AssetEventKind.CONSUMED, uri)
        _key(key, where, "the key of its asset event (run.runId|kind|namespace/name)")
        assertions = ((d.get("inputFacets") or {}).get("dataQualityAssertions") or {}).get(
            "assertions"
        )
        for j, a in enumerate(assertions or ()):
            at = f"{where}.inputFacets.dataQualityAssertions.assertions[{j}]"
            _name(a["assertion"], f"{at}.assertion")
            if isinstance(a.get("column"), str):
                _name(a["column"], f"{at}.column")
            key = _check_key(run_id, uri, _check_name(a))
            _key(key, at, "the key of its check result (run.runId|namespace/name|assertion)")
    facets = d.get("facets") or {}
    for j, s in enumerate((facets.get("symlinks") or {}).get("identifiers") or ()):
        _dataset_uri(s, f"{where}.facets.symlinks.identifiers[{j}]")
    fields = (facets.get("columnLineage") or {}).get("fields") or {}
    for column, lineage in fields.items():
        at = f"{where}.facets.columnLineage.fields"
        _name(column, f"{at} (a column's name)")
        for k, f in enumerate(lineage.get("inputFields") or ()):
            source = f"{at}.{column if len(column) <= 64 else column[:61] + '...'}.inputFields[{k}]"
            _dataset_uri(f, source)
            _name(f["field"], f"{source}.field")
            # Both columns are in one index, with the two assets' ids.
            _key(column + f["field"], source, "this column and its input field together")


def _dataset_uri(d: Mapping[str, Any], where: str) -> str:
    _name(d["namespace"], f"{where}.namespace")
    _name(d["name"], f"{where}.name")
    uri = dataset_uri(d["namespace"], d["name"])
    for spelling in (uri, canonical(uri)):  # the catalog keeps both: identity and alias
        _key(spelling, where, "its identity (namespace + name)")
    return uri


def _name(text: str, where: str) -> None:
    if len(text) > MAX_NAME_CHARS:
        raise SpecError(where, f"{len(text)} characters, more than the {MAX_NAME_CHARS} allowed")


def _key(text: str, where: str, what: str) -> None:
    size = len(text.encode("utf-8"))
    if size > MAX_KEY_BYTES:
        raise SpecError(
            where,
            f"{what} is {size} bytes in UTF-8, more than the {MAX_KEY_BYTES} the catalog can key",
        )
