"""Alerts in the store: rules as first seen, incidents, the outbox and the evaluator's lease.

Decisions (an incident opened, resolved, notified again) and the notifications they cause are
written in one transaction, so a crash between deciding and sending loses nothing: the outbox
row is there after a restart, and a claim that ran out is claimed again (at least once).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, insert, or_, select, update
from sqlalchemy.orm import Session

from catalog.enums import FAILURE_STATUSES, NodeKind, RunStatus
from catalog.errors import InvalidArgument
from catalog.pagination import Page, PageRequest, decode_cursor, encode_cursor
from catalog.store import tables as t
from catalog.store.bulk import upsert
from catalog.store.writes import chunks

RULE = t.table(t.AlertRule)
ALERT = t.table(t.Alert)
OUTBOX = t.table(t.AlertOutbox)
LEASE = t.table(t.AlertLease)
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

OPEN = ("pending", "firing")
FINISHED = (RunStatus.SUCCESS.value, *sorted(s.value for s in FAILURE_STATUSES))
FAILED = tuple(sorted(s.value for s in FAILURE_STATUSES))
# A run is filed under the time it started; one that ends this long after its start is rare
# enough that the index range may miss it (its failure then counts from its start).
LONGEST_RUN = timedelta(days=2)


# -- rules ----------------------------------------------------------------------------------------


def ensure_rules(
    conn: Connection, rules: Sequence[tuple[str, str]], now: datetime
) -> dict[str, Any]:
    """Each rule's ``since`` (when the engine first saw it); a rule whose kind changed is new."""
    if rules:
        upsert(conn, RULE, [{"name": n, "kind": k, "since": now} for n, k in rules], ["name"])
        for name, kind in rules:
            conn.execute(
                update(RULE)
                .where(RULE.c.name == name, RULE.c.kind != kind)
                .values(kind=kind, since=now)
            )
    rows = conn.execute(select(RULE.c.name, RULE.c.since)).all()
    return {r.name: r.since for r in rows}


def read_rule_since(session: Session) -> dict[str, datetime]:
    return {r.name: r.since for r in session.execute(select(RULE.c.name, RULE.c.since))}


# -- incidents ------------------------------------------------------------------------------------


def read_open_alerts(conn: Connection, rule: str) -> list[Any]:
    return list(
        conn.execute(select(ALERT).where(ALERT.c.rule == rule, ALERT.c.status.in_(OPEN))).all()
    )


def insert_alert(conn: Connection, values: dict[str, Any]) -> int:
    return int(conn.execute(insert(ALERT).values(**values).returning(ALERT.c.id)).scalar_one())


def update_alert(conn: Connection, alert_id: int, values: dict[str, Any]) -> None:
    conn.execute(update(ALERT).where(ALERT.c.id == alert_id).values(**values))


def enqueue(
    conn: Connection,
    alert_id: int,
    destinations: Sequence[str],
    action: str,
    payload: dict[str, Any],
    now: datetime,
) -> None:
    if destinations:
        conn.execute(
            insert(OUTBOX),
            [
                {
                    "alert_id": alert_id,
                    "destination": d,
                    "action": action,
                    "state": "pending",
                    "payload": payload,
                    "created_at": now,
                    "next_attempt_at": now,
                    "attempts": 0,
                }
                for d in destinations
            ],
        )


def read_alerts(
    session: Session, page: PageRequest, *, status: str | None, rule: str | None
) -> Page[t.Alert]:
    """Newest first; the cursor is the last row's id."""
    query = _alert_filter(select(t.Alert), status, rule)
    if page.after is not None:
        (last,) = decode_cursor(page.after, arity=1)
        if not isinstance(last, int):
            raise InvalidArgument("after", "is not a cursor this list returned")
        query = query.where(ALERT.c.id < last)
    rows = list(session.scalars(query.order_by(ALERT.c.id.desc()).limit(page.first + 1)))
    items = rows[: page.first]
    return Page(items, [encode_cursor(r.id) for r in items], len(rows) > page.first)


def count_alerts(session: Session, *, status: str | None, rule: str | None) -> int:
    query = _alert_filter(select(func.count()).select_from(ALERT), status, rule)
    return int(session.execute(query).scalar_one())


def _alert_filter(query: Any, status: str | None, rule: str | None) -> Any:
    if status is not None:
        query = query.where(ALERT.c.status == status)
    if rule is not None:
        query = query.where(ALERT.c.rule == rule)
    return query


def read_deliveries(session: Session, alert_ids: Sequence[int]) -> list[list[t.AlertOutbox]]:
    found: dict[int, list[t.AlertOutbox]] = {i: [] for i in alert_ids}
    for part in chunks(sorted(set(alert_ids))):
        query = select(t.AlertOutbox).where(OUTBOX.c.alert_id.in_(part)).order_by(OUTBOX.c.id)
        for row in session.scalars(query):
            found[row.alert_id].append(row)
    return [found[i] for i in alert_ids]


# -- the outbox -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Delivery:
    id: int
    alert_id: int
    destination: str
    action: str
    payload: dict[str, Any]
    created_at: datetime
    attempts: int


def claim_due(
    conn: Connection, destination: str, owner: str, now: datetime, hold: timedelta, limit: int
) -> list[Delivery]:
    """Claim up to ``limit`` due notifications for ``destination``, oldest first, for ``hold``.

    Each claim is a conditional UPDATE, so two dispatchers never both win a row; a claim whose
    holder died runs out and the row is claimed again (delivery is at least once).
    """
    due = conn.execute(
        select(OUTBOX.c.id)
        .where(
            OUTBOX.c.destination == destination,
            OUTBOX.c.state == "pending",
            OUTBOX.c.next_attempt_at <= now,
            or_(OUTBOX.c.claimed_until.is_(None), OUTBOX.c.claimed_until < now),
        )
        .order_by(OUTBOX.c.id)
        .limit(limit)
    ).scalars()
    claimed: list[Delivery] = []
    for row_id in list(due):
        won = conn.execute(
            update(OUTBOX)
            .where(
                OUTBOX.c.id == row_id,
                OUTBOX.c.state == "pending",
                or_(OUTBOX.c.claimed_until.is_(None), OUTBOX.c.claimed_until < now),
            )
            .values(claimed_by=owner, claimed_until=now + hold)
        ).rowcount
        if won:
            r = conn.execute(select(OUTBOX).where(OUTBOX.c.id == row_id)).one()
            claimed.append(
                Delivery(
                    r.id,
                    r.alert_id,
                    r.destination,
                    r.action,
                    dict(r.payload),
                    r.created_at,
                    r.attempts,
                )
            )
    return claimed


def finish_delivery(
    conn: Connection,
    delivery_id: int,
    owner: str,
    *,
    state: str,
    now: datetime,
    next_attempt_at: datetime | None = None,
    error: str | None = None,
) -> None:
    """Record an attempt: ``sent``, ``dropped`` (given up), or ``pending`` again (a retry)."""
    values: dict[str, Any] = {
        "state": state,
        "attempts": OUTBOX.c.attempts + 1,
        "claimed_by": None,
        "claimed_until": None,
        "last_error": error,
    }
    if state == "sent":
        values["sent_at"] = now
    if next_attempt_at is not None:
        values["next_attempt_at"] = next_attempt_at
    conn.execute(
        update(OUTBOX)
        .where(OUTBOX.c.id == delivery_id, OUTBOX.c.claimed_by == owner)
        .values(**values)
    )


def count_pending(conn: Connection, destination: str | None = None) -> int:
    query = select(func.count()).select_from(OUTBOX).where(OUTBOX.c.state == "pending")
    if destination is not None:
        query = query.where(OUTBOX.c.destination == destination)
    return int(conn.execute(query).scalar_one())


# -- the evaluator's lease ------------------------------------------------------------------------


def try_lease(conn: Connection, name: str, owner: str, now: datetime, ttl: timedelta) -> bool:
    """Hold ``name`` for ``ttl`` unless another owner's lease is still running."""
    upsert(conn, LEASE, [{"name": name, "owner": None, "expires_at": None}], ["name"])
    won = conn.execute(
        update(LEASE)
        .where(
            LEASE.c.name == name,
            or_(
                LEASE.c.owner.is_(None),
                LEASE.c.owner == owner,
                LEASE.c.expires_at < now,
            ),
        )
        .values(owner=owner, expires_at=now + ttl)
    ).rowcount
    return bool(won)


def release_lease(conn: Connection, name: str, owner: str) -> None:
    conn.execute(
        update(LEASE)
        .where(LEASE.c.name == name, LEASE.c.owner == owner)
        .values(owner=None, expires_at=None)
    )


# -- what the rules look at -----------------------------------------------------------------------


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
