"""Adapter records: what an adapter yields, before the store gives anything an id.

Records are plain, immutable and refer to each other by the orchestrator's own identifiers
(a DAG id, a run id, an asset URI), never by catalog ids. The store resolves references when it
writes a :class:`Batch`, creating a bare pipeline or task when a run names one it has not seen.
Mappings inside records are treated as read-only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from catalog.enums import AssetEventKind, EdgeOrigin, NodeKind, RunStatus, TriggerKind

JSON = Mapping[str, Any]
Cursor = Mapping[str, Any]
_EMPTY: JSON = {}


@dataclass(frozen=True, slots=True)
class PipelineRecord:
    external_id: str  # DAG id, flow (or flow/deployment) id, Dagster job name
    name: str
    description: str | None = None
    owners: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    # One rule for every tool: the schedule as the tool states it (a cron, an interval, a
    # timetable's summary) and whether it makes runs now. ``schedule_active`` is False for a
    # stopped schedule or a paused pipeline, None when there is no schedule. ``paused`` is the
    # pipeline's own switch (an Airflow DAG, every deployment of a flow, all of a job's
    # automations), kept apart: an unscheduled DAG can be paused too.
    schedule: str | None = None
    schedule_active: bool | None = None
    paused: bool | None = None
    ui_url: str | None = None
    metadata: JSON = field(default_factory=dict)
    processing_type: str | None = None  # "batch", "streaming", "service" (OpenLineage jobType)
    # What one observation (an OpenLineage event) says of the pipeline, not all there is: what
    # it leaves out (None, no owners or tags) keeps its stored value, and metadata accumulates.
    partial: bool = False


@dataclass(frozen=True, slots=True)
class TaskRecord:
    pipeline_id: str
    external_id: str
    name: str | None = None
    kind: str | None = None  # operator class, task function, op
    upstream: tuple[str, ...] = ()  # external ids of upstream tasks in the same pipeline
    ui_url: str | None = None
    metadata: JSON = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RunRecord:
    pipeline_id: str
    external_id: str
    status: RunStatus
    raw_status: str | None = None
    trigger: TriggerKind = TriggerKind.UNKNOWN
    logical_date: datetime | None = None
    queued_at: datetime | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    duration_s: float | None = None  # computed from start/end when absent
    parent_run_id: str | None = None  # external id of the parent run in the same source
    error: str | None = None
    ui_url: str | None = None
    tags: tuple[str, ...] = ()
    # Owners the run itself names (a Dagster run's owner tags), beside its pipeline's owners.
    # A record that names none leaves what is stored.
    owners: tuple[str, ...] = ()
    metadata: JSON = field(default_factory=dict)
    # When the status was observed (an event's time, the orchestrator's updated_at). A record
    # older than what is stored does not change status, end or error; see catalog/store/writes.
    status_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class TaskRunRecord:
    run_id: str  # external id of the run; the task belongs to that run's pipeline
    task_id: str
    status: RunStatus
    attempt: int = 1
    map_index: int = -1  # -1: not a mapped task
    external_id: str = ""  # the tool's id of this execution, when it has one (OpenLineage runId)
    raw_status: str | None = None
    queued_at: datetime | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    duration_s: float | None = None
    error: str | None = None
    log_url: str | None = None
    metadata: JSON = field(default_factory=dict)
    status_at: datetime | None = None  # as RunRecord.status_at


@dataclass(frozen=True, slots=True)
class AssetRecord:
    uri: str  # canonical identity: OpenLineage namespace + name, written as a URI
    alias: str | None = None  # the source's own name for it (Dagster key, Prefect key …)
    alias_reason: str | None = None  # why the alias is not the identity (a rule, a spelling)
    kind: str | None = None
    description: str | None = None
    owners: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    # Fresh while produced at most this long ago; with ``freshness_cron``, produced at most this
    # long before each of the cron's ticks (a deadline), read in ``freshness_timezone``.
    freshness_max_age_s: float | None = None
    freshness_cron: str | None = None
    freshness_timezone: str | None = None  # IANA name; UTC when absent
    metadata: JSON = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AssetEventRecord:
    asset_uri: str
    kind: AssetEventKind
    at: datetime
    run_id: str | None = None
    task_id: str | None = None
    attempt: int | None = None
    row_count: int | None = None
    external_id: str | None = None  # the tool's event id; derived from the fields when absent
    metadata: JSON = field(default_factory=dict)

    def key(self) -> str:
        if self.external_id is not None:
            return self.external_id
        return "|".join(
            (
                self.asset_uri,
                self.kind,
                self.at.isoformat(),
                self.run_id or "",
                self.task_id or "",
                "" if self.attempt is None else str(self.attempt),
            )
        )


@dataclass(frozen=True, slots=True)
class CheckResultRecord:
    asset_uri: str
    check_name: str
    passed: bool
    at: datetime
    severity: str | None = None  # "warn", "error" …
    run_id: str | None = None
    external_id: str | None = None
    metadata: JSON = field(default_factory=dict)

    def key(self) -> str:
        if self.external_id is not None:
            return self.external_id
        return "|".join((self.asset_uri, self.check_name, self.at.isoformat(), self.run_id or ""))


@dataclass(frozen=True, slots=True)
class ColumnLineageRecord:
    """One column of an output asset derived from one column of an input asset."""

    output_uri: str
    output_column: str
    input_uri: str
    input_column: str
    transformations: tuple[JSON, ...] = ()  # OpenLineage's {type, subtype, description, masking}
    seen_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class NodeRef:
    """A node of the lineage graph, named the way its source names it."""

    kind: NodeKind
    ref: str  # asset URI, pipeline external id
    task: str | None = None  # task external id when kind is TASK (ref is then the pipeline)

    @classmethod
    def asset(cls, uri: str) -> NodeRef:
        return cls(NodeKind.ASSET, uri)

    @classmethod
    def pipeline(cls, pipeline_id: str) -> NodeRef:
        return cls(NodeKind.PIPELINE, pipeline_id)

    @classmethod
    def of_task(cls, pipeline_id: str, task_id: str) -> NodeRef:
        return cls(NodeKind.TASK, pipeline_id, task_id)


@dataclass(frozen=True, slots=True)
class EdgeRecord:
    upstream: NodeRef
    downstream: NodeRef
    origin: EdgeOrigin = EdgeOrigin.DECLARED
    seen_at: datetime | None = None  # defaults to the time the batch is written


@dataclass(frozen=True, slots=True)
class Batch:
    """One unit of sync: written in one transaction together with ``cursor``.

    ``cursor`` is whatever the adapter needs to resume after this batch; it must be
    JSON-serialisable. ``notices`` are problems the source reports about itself (an Airflow
    import error, say): recorded on the source, not fatal to the sync. ``None`` leaves the
    source's notices as they are; ``()`` clears them.
    """

    cursor: Cursor
    pipelines: tuple[PipelineRecord, ...] = ()
    tasks: tuple[TaskRecord, ...] = ()
    runs: tuple[RunRecord, ...] = ()
    task_runs: tuple[TaskRunRecord, ...] = ()
    assets: tuple[AssetRecord, ...] = ()
    asset_events: tuple[AssetEventRecord, ...] = ()
    check_results: tuple[CheckResultRecord, ...] = ()
    edges: tuple[EdgeRecord, ...] = ()
    column_lineage: tuple[ColumnLineageRecord, ...] = ()
    notices: tuple[str, ...] | None = None

    def size(self) -> int:
        return (
            len(self.pipelines)
            + len(self.tasks)
            + len(self.runs)
            + len(self.task_runs)
            + len(self.assets)
            + len(self.asset_events)
            + len(self.check_results)
            + len(self.edges)
            + len(self.column_lineage)
        )


@dataclass(frozen=True, slots=True)
class ReceivedEvent:
    """A pushed event as received (an OpenLineage event), before it becomes records.

    ``(run_key, event_type, event_time)`` is its identity: a delivery that repeats it is a
    duplicate. ``run_id`` and ``run_identity`` are the run it reports on and which catalog run
    that is, as this event states it; the first event of a run decides (see Store.receive).
    ``history``: its records need the run's events stored before (a COMPLETE: what the run
    read and wrote is what all its events named).
    """

    run_key: str
    event_type: str
    event_time: datetime
    payload: JSON
    warnings: tuple[str, ...] = ()
    run_id: str | None = None
    run_identity: JSON | None = None
    history: bool = False
