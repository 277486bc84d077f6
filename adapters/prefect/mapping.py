"""Prefect API objects as catalog records. Pure functions: no I/O, no clock.

Identities: a flow is a pipeline, named by the flow's name (unique in a workspace, stable when
a flow is re-registered); a flow run is a run, by its id. A task is named by its task key
without the code hash Prefect appends (``extract-9e744495`` → ``extract``), so a code change
does not make a new task. A task run is one task run per attempt, its Prefect id kept as the
task run's external id.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from prefect.client.schemas.objects import Flow, FlowRun, State, TaskRun, TaskRunResult
from prefect.client.schemas.responses import DeploymentResponse
from prefect.events.schemas.events import Event

from adapters.prefect.states import status
from catalog.enums import AssetEventKind, EdgeOrigin, RunStatus, TriggerKind
from catalog.records import (
    AssetEventRecord,
    AssetRecord,
    EdgeRecord,
    NodeRef,
    PipelineRecord,
    RunRecord,
    TaskRecord,
    TaskRunRecord,
)
from catalog.secrets import strip_userinfo

MATERIALIZED = "prefect.asset.materialization.succeeded"
MATERIALIZATION_FAILED = "prefect.asset.materialization.failed"
REFERENCED = "prefect.asset.referenced"
OWNERS_LABEL = "prefect.asset.owners"
ASSET_EVENTS = (MATERIALIZED, MATERIALIZATION_FAILED, REFERENCED)
_CODE_HASH = re.compile(r"-[0-9a-f]{8}$")
_EXCEPTION_PREFIX = re.compile(r"^(Flow|Task) run encountered an exception:? ")


class Links:
    """Deep links into the Prefect UI (server or Cloud; never with the URL's user-info)."""

    def __init__(self, ui: str) -> None:
        self.ui = strip_userinfo(ui).rstrip("/")

    def flow(self, flow_id: UUID) -> str:
        return f"{self.ui}/flows/flow/{flow_id}"

    def deployment(self, deployment_id: UUID) -> str:
        return f"{self.ui}/deployments/deployment/{deployment_id}"

    def flow_run(self, flow_run_id: UUID) -> str:
        return f"{self.ui}/runs/flow-run/{flow_run_id}"

    def task_run(self, task_run_id: UUID) -> str:
        return f"{self.ui}/runs/task-run/{task_run_id}"


def task_id(task_key: str) -> str:
    return _CODE_HASH.sub("", task_key)


def pipeline(flow: Flow, deployments: Sequence[DeploymentResponse], links: Links) -> PipelineRecord:
    """A flow, with its deployments: their schedules, work pools, tags and pause switches.

    The schedule shown is the first one that makes runs (an active schedule of a deployment
    that is not paused), else the first one at all, shown as not active."""
    every = [(d, s) for d in deployments for s in d.schedules or ()]
    active = [describe_schedule(s.schedule) for d, s in every if s.active and not d.paused]
    shown = active[0] if active else (describe_schedule(every[0][1].schedule) if every else None)
    tags = {*flow.tags, *(t for d in deployments for t in d.tags)}
    return PipelineRecord(
        external_id=flow.name,
        name=flow.name,
        description=next((d.description for d in deployments if d.description), None),
        tags=tuple(sorted(tags)),
        schedule=shown,
        schedule_active=bool(active) if every else None,
        paused=all(d.paused for d in deployments) if deployments else None,
        ui_url=links.flow(flow.id),
        metadata=_compact(
            {
                "flow_id": str(flow.id),
                "deployments": [deployment(d, links) for d in deployments] or None,
                "schedules": active[1:] or None,
            }
        ),
    )


def deployment(d: DeploymentResponse, links: Links) -> dict[str, Any]:
    return _compact(
        {
            "id": str(d.id),
            "name": d.name,
            "paused": d.paused,
            "tags": list(d.tags) or None,
            "work_pool": d.work_pool_name,
            "work_queue": d.work_queue_name,
            "schedules": [
                {"schedule": describe_schedule(s.schedule), "active": s.active}
                for s in d.schedules or ()
            ]
            or None,
            "ui_url": links.deployment(d.id),
        }
    )


def describe_schedule(schedule: Any) -> str:
    """``0 * * * *``, ``every 3600s`` or the RRULE, as people write them."""
    if getattr(schedule, "cron", None):
        return str(schedule.cron)
    interval = getattr(schedule, "interval", None)
    if isinstance(interval, timedelta):
        return f"every {interval.total_seconds():g}s"
    if getattr(schedule, "rrule", None):
        return str(schedule.rrule)
    return str(schedule)


def trigger(r: FlowRun) -> TriggerKind:
    created_by = getattr(r.created_by, "type", None)
    if created_by == "AUTOMATION" or r.parent_task_run_id is not None:
        return TriggerKind.EVENT  # an automation, or a parent flow that called it
    if r.deployment_id is not None and r.auto_scheduled:
        return TriggerKind.SCHEDULED
    return TriggerKind.MANUAL


def run(r: FlowRun, flow_name: str, links: Links, parent_run_id: str | None) -> RunRecord:
    state = r.state
    found = status(r.state_type.value if r.state_type else None, r.state_name)
    return RunRecord(
        pipeline_id=flow_name,
        external_id=str(r.id),
        status=found,
        raw_status=r.state_name,
        trigger=trigger(r),
        queued_at=r.expected_start_time,
        started_at=r.start_time,
        ended_at=r.end_time,
        duration_s=r.total_run_time.total_seconds() if r.start_time else None,
        parent_run_id=parent_run_id,
        error=error(state) if found.is_failure() else None,
        ui_url=links.flow_run(r.id),
        tags=tuple(sorted(set(r.tags))),
        metadata=_compact(
            {
                "name": r.name,
                "parameters": r.parameters or None,
                "run_count": r.run_count,
                "deployment_id": str(r.deployment_id) if r.deployment_id else None,
                "work_pool": r.work_pool_name,
                "work_queue": r.work_queue_name,
                "created_by": _created_by(r),
                "flow_version": r.flow_version,
                "idempotency_key": r.idempotency_key,
                "state_message": state.message if state is not None else None,
            }
        ),
    )


def task(t: TaskRun, flow_name: str, upstream: Iterable[str], links: Links) -> TaskRecord:
    subflow = t.state is not None and t.state.state_details.child_flow_run_id is not None
    return TaskRecord(
        pipeline_id=flow_name,
        external_id=task_id(t.task_key),
        name=task_id(t.task_key),
        kind="subflow" if subflow else "task",
        upstream=tuple(sorted(set(upstream) - {task_id(t.task_key)})),
        metadata=_compact({"task_key": t.task_key, "retries": t.empirical_policy.retries}),
    )


def upstream_task_runs(t: TaskRun) -> list[UUID]:
    """The task runs whose results this one took as inputs (``task_inputs``)."""
    out = []
    for inputs in t.task_inputs.values():
        for ref in inputs:
            if isinstance(ref, TaskRunResult):
                out.append(ref.id)
    return out


def task_runs(t: TaskRun, states: Sequence[State] | None, links: Links) -> list[TaskRunRecord]:
    """One record per attempt. ``states``: the task run's state history, read when it ran more
    than once; without it the task run is its only attempt."""
    final = status(t.state_type.value if t.state_type else None, t.state_name)
    last = TaskRunRecord(
        run_id=str(t.flow_run_id),
        task_id=task_id(t.task_key),
        external_id=str(t.id),
        log_url=links.task_run(t.id),
        status=final,
        attempt=max(t.run_count, 1),
        raw_status=t.state_name,
        queued_at=t.expected_start_time,
        started_at=t.start_time,
        ended_at=t.end_time,
        duration_s=t.total_run_time.total_seconds() if t.start_time else None,
        error=error(t.state) if final.is_failure() else None,
        metadata=_compact(
            {
                "name": t.name,
                "task_key": t.task_key,
                "run_count": t.run_count,
                "dynamic_key": t.dynamic_key,
                "tags": sorted(t.tags) or None,
                "child_flow_run_id": _child(t),
            }
        ),
    )
    attempts = _attempts(states) if states and t.run_count > 1 else []
    if len(attempts) < 2:
        return [last]
    # Earlier attempts were retried: none of them succeeded. Times come from the history;
    # the total run time Prefect reports covers every attempt, so durations are recomputed.
    out = [
        replace(
            last,
            status=RunStatus.FAILED,
            attempt=number,
            raw_status=stop.name if stop is not None else None,
            queued_at=None,
            started_at=began.timestamp,
            ended_at=ended,
            duration_s=None,
            error=error(stop) if stop is not None else None,
        )
        for number, (began, ended, stop) in enumerate(attempts[:-1], start=1)
    ]
    out.append(
        replace(
            last,
            attempt=len(attempts),
            queued_at=None,
            started_at=attempts[-1][0].timestamp,
            duration_s=None,
        )
    )
    return out


def _attempts(states: Sequence[State]) -> list[tuple[State, datetime | None, State | None]]:
    """(the state that began it, when it ended, the state that ended it) per attempt.

    An attempt begins with a RUNNING state that does not continue a running one (``Running``
    after ``Pending`` or ``AwaitingRetry``; ``Retrying``, which Prefect sets for a retry).
    """
    ordered = sorted(states, key=lambda s: s.timestamp)
    attempts: list[tuple[State, datetime | None, State | None]] = []
    previous: State | None = None
    for s in ordered:
        running = s.type.value == "RUNNING"
        starts = running and (
            previous is None or previous.type.value != "RUNNING" or s.name == "Retrying"
        )
        if starts:
            if attempts and attempts[-1][1] is None:
                # Cut short by ``Retrying``: Prefect records no failed state in between, so
                # the state that ended the attempt is the retry itself.
                began, _, _ = attempts[-1]
                attempts[-1] = (began, s.timestamp, s)
            attempts.append((s, None, None))
        elif attempts and attempts[-1][1] is None and not running:
            began, _, _ = attempts[-1]
            attempts[-1] = (began, s.timestamp, s)
        previous = s
    return attempts


def error(state: State | None) -> str | None:
    """``ValueError: orders feed is empty`` from Prefect's "… encountered an exception …"."""
    if state is None or not state.message:
        return None
    return _EXCEPTION_PREFIX.sub("", state.message.strip()) or None


def asset(event: Event) -> AssetRecord:
    labels = {k: v for k, v in event.resource.items() if k != "prefect.resource.id"}
    return AssetRecord(
        uri=event.resource.id,
        description=labels.get("prefect.asset.description"),
        owners=asset_owners(labels.get(OWNERS_LABEL)),
        metadata=_compact({"labels": labels or None}),
    )


def asset_owners(label: str | None) -> tuple[str, ...]:
    """``AssetProperties.owners`` as Prefect puts it on the event's resource: a JSON list of
    strings (``prefect.context.AssetContext.asset_as_resource``). Anything else names no
    owner; the label itself stays in the asset's metadata."""
    if not label:
        return ()
    try:
        found = json.loads(label)
    except ValueError:
        return ()
    if not isinstance(found, list):
        return ()
    names = (o.strip() for o in found if isinstance(o, str))
    return tuple(dict.fromkeys(n for n in names if n))


def related(event: Event, role: str) -> list[str]:
    return [r.id for r in event.related if r.role == role]


def related_id(event: Event, role: str, prefix: str) -> UUID | None:
    for r in event.related:
        if r.role == role and r.id.startswith(prefix):
            try:
                return UUID(r.id.removeprefix(prefix))
            except ValueError:
                return None
    return None


def asset_event(
    event: Event, run_id: str | None, flow_name: str | None, task: str | None
) -> tuple[AssetEventRecord, list[EdgeRecord]]:
    """The event as an asset event, and the lineage it shows: the task wrote (or failed to
    write) the asset, and read the assets the event names as its upstream."""
    uri = event.resource.id
    kind = {
        MATERIALIZED: AssetEventKind.PRODUCED,
        MATERIALIZATION_FAILED: AssetEventKind.OBSERVED,
        REFERENCED: AssetEventKind.CONSUMED,
    }[event.event]
    payload = dict(event.payload or {})
    row_count = payload.get("row_count")
    record = AssetEventRecord(
        asset_uri=uri,
        kind=kind,
        at=event.occurred,
        run_id=run_id,
        task_id=task if run_id else None,
        row_count=row_count if _is_count(row_count) else None,
        external_id=f"prefect-event:{event.id}",
        metadata=_compact(
            {
                "event": event.event,
                "materialization": "failed" if event.event == MATERIALIZATION_FAILED else None,
                "payload": payload or None,
                "upstream_assets": related(event, "asset") or None,
            }
        ),
    )
    edges: list[EdgeRecord] = []
    if flow_name and task:
        node, at = NodeRef.of_task(flow_name, task), event.occurred
        if event.event == REFERENCED:
            edges.append(EdgeRecord(NodeRef.asset(uri), node, EdgeOrigin.OBSERVED, at))
        else:
            edges.append(EdgeRecord(node, NodeRef.asset(uri), EdgeOrigin.OBSERVED, at))
            edges += [
                EdgeRecord(NodeRef.asset(up), node, EdgeOrigin.OBSERVED, at)
                for up in related(event, "asset")
            ]
    return record, edges


def _child(t: TaskRun) -> str | None:
    child = t.state.state_details.child_flow_run_id if t.state is not None else None
    return str(child) if child else None


def _created_by(r: FlowRun) -> dict[str, Any] | None:
    if r.created_by is None:
        return None
    return _compact(
        {
            "type": getattr(r.created_by, "type", None),
            "display_value": getattr(r.created_by, "display_value", None),
        }
    )


def _compact(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def _is_count(value: Any) -> bool:
    # bool is an int subclass; ``True`` rows is a mistake in the payload, not a count.
    return isinstance(value, int) and not isinstance(value, bool)
