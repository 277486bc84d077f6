"""Airflow API answers as catalog records. Pure functions: no I/O, no clock.

Identities: a DAG is a pipeline (its ``dag_id``), a task is a task of it. Airflow's run ids are
unique only within a DAG, so a run's external id is ``<dag_id>/<dag_run_id>`` (a DAG id has no
``/``). A task instance is one task run per try and map index; the task instance's own UUID is
kept in metadata (it changes with every try, so it cannot be the row's identity).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote

from airflow_client.client.models.asset_event_response import AssetEventResponse
from airflow_client.client.models.asset_response import AssetResponse
from airflow_client.client.models.dag_response import DAGResponse
from airflow_client.client.models.dag_run_asset_reference import DagRunAssetReference
from airflow_client.client.models.dag_run_response import DAGRunResponse
from airflow_client.client.models.import_error_response import ImportErrorResponse
from airflow_client.client.models.task_instance_history_response import TaskInstanceHistoryResponse
from airflow_client.client.models.task_instance_response import TaskInstanceResponse
from airflow_client.client.models.task_response import TaskResponse

from adapters.airflow.states import dag_run_status, task_status, trigger_kind
from catalog.enums import AssetEventKind, EdgeOrigin
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

AnyTaskInstance = TaskInstanceResponse | TaskInstanceHistoryResponse
OWNER_KEYS = ("owner", "owners")  # keys of an asset's ``extra`` that name its owners


def run_key(dag_id: str, run_id: str) -> str:
    return f"{dag_id}/{run_id}"


class Links:
    """Deep links into the Airflow 3 UI (never with the user-info of the URL configured)."""

    def __init__(self, ui: str) -> None:
        self.ui = strip_userinfo(ui).rstrip("/")

    def dag(self, dag_id: str) -> str:
        return f"{self.ui}/dags/{quote(dag_id, safe='')}"

    def task(self, dag_id: str, task_id: str) -> str:
        return f"{self.dag(dag_id)}/tasks/{quote(task_id, safe='')}"

    def run(self, dag_id: str, run_id: str) -> str:
        return f"{self.dag(dag_id)}/runs/{quote(run_id, safe='')}"

    def task_instance(
        self, dag_id: str, run_id: str, task_id: str, map_index: int, try_number: int
    ) -> str:
        url = f"{self.run(dag_id, run_id)}/tasks/{quote(task_id, safe='')}"
        if map_index >= 0:
            url += f"/mapped/{map_index}"
        return f"{url}?try_number={max(try_number, 1)}"


def pipeline(d: DAGResponse, links: Links) -> PipelineRecord:
    return PipelineRecord(
        external_id=d.dag_id,
        name=d.dag_display_name or d.dag_id,
        description=d.description,
        owners=tuple(dict.fromkeys(d.owners)),
        tags=tuple(sorted({t.name for t in d.tags})),
        schedule=d.timetable_summary,
        # A paused DAG is scheduled by nothing: neither its timetable nor its assets.
        schedule_active=None if d.timetable_summary is None else not d.is_paused,
        paused=d.is_paused,
        ui_url=links.dag(d.dag_id),
        metadata=_compact(
            {
                "fileloc": d.fileloc,
                "relative_fileloc": d.relative_fileloc,
                "bundle_name": d.bundle_name,
                "bundle_version": d.bundle_version,
                "timetable_description": d.timetable_description,
                "max_active_runs": d.max_active_runs,
                "max_active_tasks": d.max_active_tasks,
                "is_stale": d.is_stale,
                "has_import_errors": d.has_import_errors,
            }
        ),
    )


def tasks(dag_id: str, found: Iterable[TaskResponse], links: Links) -> list[TaskRecord]:
    """A DAG's tasks, with upstream ids inverted from Airflow's downstream lists."""
    found = [t for t in found if t.task_id]
    upstream: dict[str, list[str]] = {str(t.task_id): [] for t in found}
    for t in found:
        for down in t.downstream_task_ids or ():
            upstream.setdefault(down, []).append(str(t.task_id))
    out = []
    for t in found:
        task_id = str(t.task_id)
        class_ref = t.class_ref or {}
        out.append(
            TaskRecord(
                pipeline_id=dag_id,
                external_id=task_id,
                name=t.task_display_name or task_id,
                kind=class_ref.get("class_name") or t.operator_name,
                upstream=tuple(sorted(upstream.get(task_id, ()))),
                ui_url=links.task(dag_id, task_id),
                metadata=_compact(
                    {
                        "operator_name": t.operator_name,
                        "module": class_ref.get("module_path"),
                        "owner": t.owner,
                        "retries": _int(t.retries),
                        "trigger_rule": t.trigger_rule,
                        "is_mapped": t.is_mapped,
                        "pool": t.pool,
                        "queue": t.queue,
                        "depends_on_past": t.depends_on_past or None,
                        "doc_md": t.doc_md,
                    }
                ),
            )
        )
    return out


def run(
    r: DAGRunResponse,
    links: Links,
    *,
    failed_tasks: Mapping[str, str | None] | None = None,
    triggering_events: Iterable[int] = (),
) -> RunRecord:
    """``failed_tasks``: the failed task ids of a failed run, each with its error if known."""
    status = dag_run_status(r.state.value if r.state is not None else None)
    return RunRecord(
        pipeline_id=r.dag_id,
        external_id=run_key(r.dag_id, r.dag_run_id),
        status=status,
        raw_status=r.state.value if r.state is not None else None,
        trigger=trigger_kind(r.run_type.value if r.run_type is not None else None),
        logical_date=r.logical_date,
        queued_at=r.queued_at,
        started_at=r.start_date,
        ended_at=r.end_date,
        duration_s=r.duration,
        error=run_error(failed_tasks) if status.is_failure() else None,
        ui_url=links.run(r.dag_id, r.dag_run_id),
        metadata=_compact(
            {
                "dag_run_id": r.dag_run_id,
                "run_type": r.run_type.value if r.run_type is not None else None,
                "triggered_by": r.triggered_by.value if r.triggered_by is not None else None,
                "triggering_user": r.triggering_user_name,
                "run_after": _iso(r.run_after),
                "data_interval_start": _iso(r.data_interval_start),
                "data_interval_end": _iso(r.data_interval_end),
                "conf": r.conf or None,
                "note": r.note,
                "partition_key": r.partition_key,
                "bundle_version": r.bundle_version,
                "dag_versions": sorted({v.version_number for v in r.dag_versions}) or None,
                "triggering_asset_events": sorted(set(triggering_events)) or None,
            }
        ),
    )


def run_error(failed_tasks: Mapping[str, str | None] | None) -> str | None:
    """``transform: ValueError: bad row`` for one failed task; others are counted."""
    if not failed_tasks:
        return None
    first, *others = sorted(failed_tasks)
    message = f"{first}: {failed_tasks[first]}" if failed_tasks[first] else first
    if not others:
        return message if failed_tasks[first] else f"task {first} failed"
    return f"{message} (and {len(others)} more failed: {', '.join(others)})"


def failure_message(log: Mapping[str, Any]) -> str | None:
    """The exception a failed try ended with, from its structured log: ``Type: message``.

    ``log`` is the JSON of ``GET …/logs/{try}`` (the generated model drops the extra fields).
    Airflow 3 logs the task's exception as ``error_detail``, a chain of exceptions (structlog's
    order): the one the task raised first, then its cause or the one it was handling.
    """
    entries = log.get("content") if isinstance(log, Mapping) else None
    for entry in reversed(entries if isinstance(entries, list) else []):
        if not isinstance(entry, dict):
            continue  # unstructured log lines (logs from before Airflow 3)
        detail = entry.get("error_detail")
        if not isinstance(detail, list) or not detail:
            continue
        exc = detail[0] if isinstance(detail[0], dict) else {}
        kind, value = exc.get("exc_type"), exc.get("exc_value")
        if kind:
            return f"{kind}: {value}" if value else str(kind)
    return None


def task_run(
    ti: AnyTaskInstance, run_done: bool, links: Links, error: str | None = None
) -> TaskRunRecord:
    """One try of a task instance (the current one, or one from its history)."""
    state = ti.state.value if ti.state is not None else None
    return TaskRunRecord(
        run_id=run_key(ti.dag_id, ti.dag_run_id),
        task_id=ti.task_id,
        status=task_status(state, run_done),
        # Never tried yet (try 0, e.g. upstream_failed): the row its first try will update.
        attempt=max(ti.try_number, 1),
        map_index=ti.map_index,
        raw_status=state or "none",
        queued_at=ti.queued_when,
        started_at=ti.start_date,
        ended_at=ti.end_date,
        duration_s=ti.duration,
        error=error,
        log_url=links.task_instance(
            ti.dag_id, ti.dag_run_id, ti.task_id, ti.map_index, ti.try_number
        ),
        metadata=_compact(
            {
                "try_number": ti.try_number,
                "max_tries": ti.max_tries,
                "operator": ti.operator,
                "hostname": ti.hostname or None,
                "unixname": ti.unixname,
                "pid": ti.pid,
                "pool": ti.pool,
                "queue": ti.queue,
                "executor": ti.executor,
                "priority_weight": ti.priority_weight,
                "dag_version": ti.dag_version.version_number if ti.dag_version else None,
                "task_instance_id": str(ti.id) if isinstance(ti, TaskInstanceResponse) else None,
                "rendered_map_index": getattr(ti, "rendered_map_index", None),
                "note": getattr(ti, "note", None),
            }
        ),
    )


def asset(a: AssetResponse) -> AssetRecord:
    return AssetRecord(
        uri=a.uri,
        alias=a.name if a.name != a.uri else None,
        kind=None,
        owners=asset_owners(a.extra),
        # Under the tool's own key: other tools describe the same asset beside it.
        metadata={
            "airflow": _compact(
                {"asset_id": a.id, "name": a.name, "group": a.group, "extra": a.extra or None}
            )
        },
    )


def asset_owners(extra: Mapping[str, Any] | None) -> tuple[str, ...]:
    """Owners an asset's ``extra`` names, the way DAG authors write them: ``owner`` or
    ``owners``, each a string (``"alice, team:ingest"``, as Airflow spells a DAG's owners) or
    a list of strings. Anything else names no owner; ``extra`` stays in the metadata."""
    found: dict[str, None] = {}
    for key in OWNER_KEYS:
        value = (extra or {}).get(key)
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list):
            continue
        found.update((i.strip(), None) for i in items if isinstance(i, str) and i.strip())
    return tuple(found)


def asset_edges(a: AssetResponse, seen_at: datetime | None = None) -> list[EdgeRecord]:
    """What the DAG definitions declare: outlets write the asset, inlets read it, and DAGs
    scheduled on it run when it is updated."""
    node = NodeRef.asset(a.uri)
    edges = [
        EdgeRecord(NodeRef.of_task(t.dag_id, t.task_id), node, EdgeOrigin.DECLARED, t.updated_at)
        for t in a.producing_tasks
    ]
    edges += [
        EdgeRecord(node, NodeRef.of_task(t.dag_id, t.task_id), EdgeOrigin.DECLARED, t.updated_at)
        for t in a.consuming_tasks
    ]
    edges += [
        EdgeRecord(node, NodeRef.pipeline(d.dag_id), EdgeOrigin.DECLARED, d.updated_at)
        for d in a.scheduled_dags
    ]
    return edges


def produced(e: AssetEventResponse, uri: str, known_run: bool) -> AssetEventRecord:
    """An asset event: the asset was updated, by a task instance when it names one.

    ``known_run``: the source run exists (Airflow keeps events of deleted runs).
    """
    run_id = (
        run_key(e.source_dag_id, e.source_run_id)
        if known_run and e.source_dag_id and e.source_run_id
        else None
    )
    return AssetEventRecord(
        asset_uri=uri,
        kind=AssetEventKind.PRODUCED,
        at=e.timestamp,
        run_id=run_id,
        task_id=e.source_task_id if run_id else None,
        external_id=f"airflow-event:{e.id}",
        row_count=_row_count(e.extra),
        metadata=_compact(
            {
                "airflow_event_id": e.id,
                "source_dag_id": e.source_dag_id,
                "source_run_id": e.source_run_id,
                "source_task_id": e.source_task_id,
                "source_map_index": e.source_map_index if e.source_map_index >= 0 else None,
                "partition_key": e.partition_key,
                "extra": e.extra or None,
            }
        ),
    )


def consumed(e: AssetEventResponse, uri: str, dag_id: str, run_id: str) -> AssetEventRecord:
    """The dag run ``dag_id/run_id`` was triggered by (and so consumed) the asset event ``e``."""
    return AssetEventRecord(
        asset_uri=uri,
        kind=AssetEventKind.CONSUMED,
        at=e.timestamp,
        run_id=run_key(dag_id, run_id),
        external_id=f"airflow-event:{e.id}:triggered:{dag_id}/{run_id}",
        metadata={"airflow_event_id": e.id},
    )


def triggered_runs(e: AssetEventResponse) -> list[DagRunAssetReference]:
    return list(e.created_dagruns)


def observed_edge(e: AssetEventResponse, uri: str) -> EdgeRecord | None:
    if not (e.source_dag_id and e.source_task_id):
        return None
    return EdgeRecord(
        NodeRef.of_task(e.source_dag_id, e.source_task_id),
        NodeRef.asset(uri),
        EdgeOrigin.OBSERVED,
        e.timestamp,
    )


def import_error_notice(e: ImportErrorResponse) -> str:
    """``file: the exception`` — the last line of the stack trace is what went wrong."""
    lines = [line.strip() for line in e.stack_trace.strip().splitlines() if line.strip()]
    return f"import error in {e.filename}: {lines[-1] if lines else 'unknown error'}"


def _row_count(extra: Mapping[str, Any] | None) -> int | None:
    for key in ("row_count", "rows", "num_rows"):
        value = (extra or {}).get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def _int(value: float | int | None) -> int | None:
    return None if value is None else int(value)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _compact(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}
