"""What alert rules read: recent failures, pipelines' and assets' facts (owners, tags, source
and tool), sync states, check results and tasks' latest successes. Read-only, batched."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, select

from catalog.enums import FAILURE_STATUSES, NodeKind, RunStatus
from catalog.store import tables as t
from catalog.store.writes import chunks

_run = t.table(t.Run).c
_pipeline = t.table(t.Pipeline).c
_source = t.table(t.Source).c
_sync = t.table(t.SyncState).c
_asset = t.table(t.Asset).c
_check = t.table(t.CheckResult).c
_task = t.table(t.Task).c
_task_run = t.table(t.TaskRun).c
_owner = t.table(t.Owner).c
_tag = t.table(t.Tag).c

FINISHED = (RunStatus.SUCCESS.value, *sorted(s.value for s in FAILURE_STATUSES))
FAILED = tuple(sorted(s.value for s in FAILURE_STATUSES))
# A run is filed under the time it started; one that ends this long after its start is rare
# enough that the index range may miss it (its failure then counts from its start).
LONGEST_RUN = timedelta(days=2)


def read_pipelines_with_failures(conn: Connection, since: datetime) -> list[int]:
    """Pipelines with a run that failed (ended) at ``since`` or later."""
    ended = func.coalesce(_run.ended_at, _run.happened_at)
    query = (
        select(_run.pipeline_id)
        .where(
            _run.status.in_(FAILED),
            _run.happened_at >= since - LONGEST_RUN,
            ended >= since,
        )
        .distinct()
    )
    return sorted(conn.execute(query).scalars())


def read_latest_finished_runs(conn: Connection, pipeline_id: int, limit: int) -> list[Any]:
    """A pipeline's latest finished (succeeded or failed) runs, newest first."""
    query = (
        select(t.table(t.Run))
        .where(_run.pipeline_id == pipeline_id, _run.status.in_(FINISHED))
        .order_by(_run.happened_at.desc(), _run.id.desc())
        .limit(limit)
    )
    return list(conn.execute(query).all())


def read_pipeline_facts(conn: Connection, pipeline_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Per pipeline: name, external id, UI link, source name and tool, owners, tags."""
    out: dict[int, dict[str, Any]] = {}
    for part in chunks(sorted(set(pipeline_ids))):
        query = select(
            _pipeline.id,
            _pipeline.name,
            _pipeline.external_id,
            _pipeline.ui_url,
            _source.name.label("source"),
            _source.kind.label("tool"),
        ).join_from(t.table(t.Pipeline), t.table(t.Source), _source.id == _pipeline.source_id)
        for r in conn.execute(query.where(_pipeline.id.in_(part))):
            out[r.id] = {
                "id": r.id,
                "name": r.name,
                "external_id": r.external_id,
                "ui_url": r.ui_url,
                "source": r.source,
                "tool": r.tool,
                "owners": [],
                "tags": [],
            }
    _add_labels(conn, NodeKind.PIPELINE.value, out)
    return out


def _add_labels(conn: Connection, kind: str, out: dict[int, dict[str, Any]]) -> None:
    for part in chunks(sorted(out)):
        for entity_id, name in conn.execute(
            select(_owner.entity_id, _owner.name)
            .where(_owner.entity_kind == kind, _owner.entity_id.in_(part))
            .order_by(_owner.name)
        ):
            out[entity_id]["owners"].append(name)
        for entity_id, tag in conn.execute(
            select(_tag.entity_id, _tag.tag)
            .where(_tag.entity_kind == kind, _tag.entity_id.in_(part))
            .order_by(_tag.tag)
        ):
            out[entity_id]["tags"].append(tag)


def read_asset_facts(conn: Connection, asset_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Per asset: URI, freshness, owners, tags, and the sources (and tools) that name it."""
    out: dict[int, dict[str, Any]] = {}
    for part in chunks(sorted(set(asset_ids))):
        for r in conn.execute(select(t.table(t.Asset)).where(_asset.id.in_(part))):
            out[r.id] = {
                "id": r.id,
                "uri": r.uri,
                "stale_after": r.stale_after,
                "max_age_s": r.freshness_max_age_s,
                "last_produced_at": r.last_produced_at,
                "owners": [],
                "tags": [],
            }
    _add_labels(conn, NodeKind.ASSET.value, out)
    return out


def read_stale_assets(conn: Connection, since: datetime, now: datetime) -> list[int]:
    """Assets with a policy that turned stale at ``since`` or later and are stale at ``now``."""
    query = select(_asset.id).where(
        _asset.freshness_max_age_s.is_not(None),
        _asset.stale_after.is_not(None),
        _asset.stale_after >= since,
        _asset.stale_after < now,
    )
    return sorted(conn.execute(query).scalars())


def read_sync_facts(conn: Connection) -> list[Any]:
    query = select(
        _source.id,
        _source.name,
        _source.kind,
        _sync.outcome,
        _sync.succeeded_at,
        _sync.failed_at,
        _sync.error,
    ).join_from(t.table(t.Source), t.table(t.SyncState), _sync.source_id == _source.id)
    return list(conn.execute(query.order_by(_source.name)).all())


def read_failed_checks(conn: Connection, since: datetime) -> list[tuple[int, str]]:
    """(asset id, check name) of checks that failed at ``since`` or later."""
    query = (
        select(_check.asset_id, _check.check_name)
        .where(_check.passed.is_(False), _check.at >= since)
        .distinct()
    )
    return sorted((int(a), str(c)) for a, c in conn.execute(query))


def read_latest_check(conn: Connection, asset_id: int, check_name: str) -> Any:
    query = (
        select(t.table(t.CheckResult))
        .where(_check.asset_id == asset_id, _check.check_name == check_name)
        .order_by(_check.at.desc(), _check.id.desc())
        .limit(1)
    )
    return conn.execute(query).first()


def read_run(conn: Connection, run_id: int) -> Any:
    return conn.execute(select(t.table(t.Run)).where(_run.id == run_id)).first()


def read_task_facts(conn: Connection, task_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Per task: name, pipeline id, and when its latest successful attempt ended."""
    out: dict[int, dict[str, Any]] = {}
    for part in chunks(sorted(set(task_ids))):
        for r in conn.execute(
            select(_task.id, _task.name, _task.external_id, _task.pipeline_id).where(
                _task.id.in_(part)
            )
        ):
            out[r.id] = {
                "id": r.id,
                "name": r.name,
                "external_id": r.external_id,
                "pipeline_id": r.pipeline_id,
                "last_success_at": None,
            }
        for task_id, ended in conn.execute(
            select(
                _task_run.task_id, func.max(func.coalesce(_task_run.ended_at, _task_run.started_at))
            )
            .where(_task_run.task_id.in_(part), _task_run.status == RunStatus.SUCCESS.value)
            .group_by(_task_run.task_id)
        ):
            out[task_id]["last_success_at"] = ended
    return out
