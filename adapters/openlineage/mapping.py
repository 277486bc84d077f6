"""Checked OpenLineage events into catalog records (see the package's docstring for the model)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from openlineage.client.generated import base

from adapters.openlineage import spec
from adapters.openlineage.datasets import column_lineage, merge_asset, merge_pipeline
from adapters.openlineage.facets import EMPTY, Facets
from adapters.openlineage.names import (
    INT32_MAX,
    INT32_MIN,
    dataset_uri,
    event_key,
    is_int,
    job_key,
    task_instance,
)
from adapters.openlineage.quality import check_results
from adapters.openlineage.spec import parse_time
from catalog.enums import AssetEventKind, EdgeOrigin, RunStatus
from catalog.identity import SYMLINK, canonical
from catalog.records import (
    JSON,
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

STATUSES: Mapping[str, RunStatus] = {
    "START": RunStatus.RUNNING,
    "RUNNING": RunStatus.RUNNING,
    "COMPLETE": RunStatus.SUCCESS,
    "FAIL": RunStatus.FAILED,
    "ABORT": RunStatus.CANCELLED,
}
_DONE = frozenset({"COMPLETE", "FAIL", "ABORT"})
_CONTINUOUS = frozenset({"streaming", "service"})
# Where each side's row count is: (side, asset event kind, facets, facet).
_STATS = (
    ("inputs", AssetEventKind.CONSUMED, "inputFacets", "dataQualityMetrics"),
    ("outputs", AssetEventKind.PRODUCED, "outputFacets", "outputStatistics"),
)


def run_identity(event: Mapping[str, Any]) -> JSON | None:
    """Which catalog run an event's run belongs to, as this event states it: ``{}`` for a run
    of its own job, or its ``parent`` (job and run) with the attempt and map index of the task
    run it is. None for an event without a run. The first event of a run decides (the store
    remembers it by run id): later events may omit the facets that say so."""
    run = event.get("run")
    if run is None:
        return None
    facets = run.get("facets") or {}
    parent = facets.get("parent")
    if parent is None:
        return {}
    ti = task_instance(facets)
    try_number, index = ti.get("try_number"), ti.get("map_index")
    return {
        "parent": {
            "job": {"namespace": parent["job"]["namespace"], "name": parent["job"]["name"]},
            "run": {"runId": parent["run"]["runId"]},
        },
        "attempt": try_number if is_int(try_number) else 1,
        "map_index": index if is_int(index) else -1,
    }


class Mapper:
    """Accumulates the records of events, in order, for one write."""

    def __init__(
        self,
        decided: Mapping[str, JSON] | None = None,
        earlier: Mapping[str, Sequence[JSON]] | None = None,
    ) -> None:
        self.decided = dict(decided or {})  # run id -> run_identity, as first stated
        self.earlier = earlier or {}  # run id -> its events stored before, oldest first
        self.seen: dict[str, dict[AssetEventKind, dict[str, Mapping[str, Any]]]] = {}
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

    def add(self, event: Mapping[str, Any], facets: Facets) -> None:
        at = parse_time(event["eventTime"])
        if spec.event_class(event) is base.DatasetEvent:  # static metadata about one dataset
            self._dataset(event["dataset"], "dataset", at, facets)
            return
        job = event["job"]
        identity: JSON | None = None
        if "run" in event:
            proposed = run_identity(event)
            identity = self.decided.setdefault(event["run"]["runId"], proposed or {})
        parent = (identity or {}).get("parent")
        node = self._job(job, facets, parent["job"] if parent else None)
        sides = {
            side: [
                self._dataset(d, f"{side}[{i}]", at, facets)
                for i, d in enumerate(event.get(side) or ())
            ]
            for side in ("inputs", "outputs")
        }
        for uri in sides["inputs"]:
            self.edges.append(EdgeRecord(NodeRef.asset(uri), node, EdgeOrigin.OBSERVED, at))
        for uri in sides["outputs"]:
            self.edges.append(EdgeRecord(node, NodeRef.asset(uri), EdgeOrigin.OBSERVED, at))
        if "run" in event:
            self._dependencies(event, node, at, facets)
            self._run(event, node, at, sides, identity or {}, facets)

    # -- jobs -----------------------------------------------------------------------------------

    def _job(
        self,
        job: Mapping[str, Any],
        facets: Facets | None,
        parent: Mapping[str, Any] | None = None,
    ) -> NodeRef:
        key = job_key(job["namespace"], job["name"])
        own = facets.of(job, "job", "facets") if facets is not None else EMPTY
        if parent is None:
            meta = {"namespace": job["namespace"], "name": job["name"]}
            record = PipelineRecord(
                key,
                job["name"],
                description=own.description(),
                owners=own.owners(),
                tags=own.tags(),
                processing_type=own.processing_type(),
                partial=True,
                metadata=meta,
            )
            self.pipelines[key] = merge_pipeline(self.pipelines.get(key), record)
            return NodeRef.pipeline(key)
        parent_key = self._job(parent, None).ref
        if (parent_key, key) not in self.tasks:
            short = job["name"].removeprefix(f"{parent['name']}.")
            kind = own.get("jobType").get("jobType")
            meta = {"namespace": job["namespace"], "name": job["name"]}
            self.tasks[(parent_key, key)] = TaskRecord(
                parent_key, key, short or job["name"], kind, metadata=meta
            )
        return NodeRef.of_task(parent_key, key)

    def _dependencies(
        self, event: Mapping[str, Any], node: NodeRef, at: datetime, facets: Facets
    ) -> None:
        """JobDependenciesRunFacet: control flow between jobs, as declared edges."""
        deps = facets.of(event["run"], "run", "facets").get("jobDependencies")
        for side in ("upstream", "downstream"):
            for dependency in deps.get(side) or ():
                other = self._job(dependency["job"], None)
                if other == node:
                    continue
                up, down = (other, node) if side == "upstream" else (node, other)
                self.edges.append(EdgeRecord(up, down, EdgeOrigin.DECLARED, at))

    # -- runs -----------------------------------------------------------------------------------

    def _run(
        self,
        event: Mapping[str, Any],
        node: NodeRef,
        at: datetime,
        sides: Mapping[str, Sequence[str]],
        identity: JSON,
        facets: Facets,
    ) -> None:
        run, job = event["run"], event["job"]
        raw_facets = run.get("facets") or {}
        own = facets.of(run, "run", "facets")
        kind = event.get("eventType") or "OTHER"
        status = STATUSES.get(kind, RunStatus.UNKNOWN)
        # OTHER carries metadata only: no observation of the run's state.
        status_at = at if kind in STATUSES else None
        started = at if kind == "START" else None
        ended = at if kind in _DONE else None
        error = own.get("errorMessage").get("message") if kind == "FAIL" else None
        meta = {
            "openlineage": {
                "runId": run["runId"],
                "job": {"namespace": job["namespace"], "name": job["name"]},
                "run_facets": raw_facets,
                "job_facets": job.get("facets") or {},
            }
        }
        parent = identity.get("parent")
        run_id = run["runId"]
        task: str | None = None
        attempt: int | None = None
        if node.task is not None and parent is not None:
            parent_run = parent["run"]["runId"]
            # The parent run may never send an event of its own (a Spark application seen
            # through its actions): a bare run stands for it, yielding to anything it reports.
            self.runs.append(RunRecord(node.ref, parent_run, RunStatus.UNKNOWN))
            attempt = identity.get("attempt", 1)
            task = node.task
            self.task_runs.append(
                TaskRunRecord(
                    parent_run,
                    node.task,
                    status,
                    attempt=attempt or 1,
                    map_index=identity.get("map_index", -1),
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
            nominal = own.get("nominalTime").get("nominalStartTime")
            self.runs.append(
                RunRecord(
                    node.ref,
                    run_id,
                    status,
                    raw_status=kind,
                    logical_date=parse_time(nominal) if isinstance(nominal, str) else None,
                    started_at=started,
                    ended_at=ended,
                    error=error,
                    tags=own.tags(),
                    metadata=meta,
                    status_at=status_at,
                )
            )
        own_run = run["runId"]
        for check in check_results(event, at, run_id, own_run, sides, facets):
            self.checks[check.key()] = check
        # Events of a run are accumulative (the spec's run cycle): what it read and wrote is
        # what all its events named, which its COMPLETE records. A streaming job has no end:
        # each RUNNING event records its own window.
        now: dict[AssetEventKind, dict[str, Mapping[str, Any]]] = {}
        for side, kind_of, holder, name in _STATS:
            now[kind_of] = {
                uri: facets.of(d, f"{side}[{i}]", holder).get(name)
                for i, (d, uri) in enumerate(zip(event.get(side) or (), sides[side], strict=True))
            }
        seen = self._seen(own_run)
        for kind_of, found in now.items():
            seen[kind_of].update(found)
        streaming = facets.of(job, "job", "facets").processing_type() in _CONTINUOUS
        if kind == "COMPLETE":
            key = own_run
        elif kind == "RUNNING" and streaming:
            key, seen = f"{own_run}|{at.isoformat()}", now
        else:
            return
        for kind_of, found in seen.items():
            for uri, stats in found.items():
                self._asset_event(uri, kind_of, at, run_id, task, attempt, key, stats)

    def _seen(self, own_run: str) -> dict[AssetEventKind, dict[str, Mapping[str, Any]]]:
        """What the run read and wrote in its events so far (its stored ones first)."""
        if own_run not in self.seen:
            seen: dict[AssetEventKind, dict[str, Mapping[str, Any]]] = {
                AssetEventKind.CONSUMED: {},
                AssetEventKind.PRODUCED: {},
            }
            for payload in self.earlier.get(own_run, ()):
                for side, kind_of, _, _ in _STATS:
                    for d in payload.get(side) or ():
                        seen[kind_of].setdefault(dataset_uri(d["namespace"], d["name"]), {})
            self.seen[own_run] = seen
        return self.seen[own_run]

    def _asset_event(
        self,
        uri: str,
        kind: AssetEventKind,
        at: datetime,
        run_id: str | None,
        task: str | None,
        attempt: int | None,
        key: str,
        stats: Mapping[str, Any],
    ) -> None:
        if kind is not AssetEventKind.OBSERVED:
            key = event_key(key, kind, uri)
        # A count the column cannot hold (2**31 rows or more: the column is 32 bits on
        # PostgreSQL) is kept in the event's metadata instead.
        rows = stats.get("rowCount")
        count = rows if is_int(rows) else None
        column = count if count is not None and INT32_MIN <= count <= INT32_MAX else None
        meta: dict[str, Any] = {"rowCount": count} if column != count else {}
        if kind is AssetEventKind.OBSERVED:
            meta["lastUpdated"] = stats["lastUpdated"]
        self.asset_events[key] = AssetEventRecord(
            uri,
            kind,
            at,
            run_id=run_id,
            task_id=task,
            attempt=attempt,
            row_count=column,
            external_id=key,
            metadata={"openlineage": meta} if meta else {},
        )

    # -- datasets -------------------------------------------------------------------------------

    def _dataset(self, d: Mapping[str, Any], where: str, at: datetime, facets: Facets) -> str:
        uri = dataset_uri(d["namespace"], d["name"])
        own = facets.of(d, where, "facets")
        raw = d.get("facets") or {}
        meta: dict[str, Any] = {
            "openlineage": {"namespace": d["namespace"], "name": d["name"], "facets": raw}
        }
        dataset_type = own.get("datasetType").get("datasetType")
        record = AssetRecord(
            uri,
            kind=dataset_type.lower() if isinstance(dataset_type, str) else None,
            description=own.description(),
            owners=own.owners(),
            tags=own.tags(),
            metadata=meta,
        )
        self.assets[uri] = merge_asset(self.assets.get(uri), record)
        for s in own.get("symlinks").get("identifiers") or ():
            # Spelled canonically: references to it are, by the time the store resolves them.
            alias = canonical(dataset_uri(s["namespace"], s["name"]))
            if alias != canonical(uri):
                self.aliases[alias] = AssetRecord(uri, alias=alias, alias_reason=SYMLINK)
        # DataQualityMetrics.lastUpdated: when the dataset last changed, whoever changed it.
        for metrics in (
            own.get("dataQualityMetrics"),
            facets.of(d, where, "inputFacets").get("dataQualityMetrics"),
        ):
            updated = metrics.get("lastUpdated")
            if isinstance(updated, str):
                changed = parse_time(updated)
                key = f"{uri}|observed|{changed.isoformat()}"
                self._asset_event(
                    uri, AssetEventKind.OBSERVED, changed, None, None, None, key, metrics
                )
        self.columns += column_lineage(uri, own.get("columnLineage"), at)
        return uri
