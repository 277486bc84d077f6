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

from catalog.pagination import Page, PageRequest
from catalog.store import tables as t
from catalog.store.bulk import upsert
from catalog.store.paging import newest_first
from catalog.store.writes import chunks

RULE = t.table(t.AlertRule)
ALERT = t.table(t.Alert)
OUTBOX = t.table(t.AlertOutbox)
LEASE = t.table(t.AlertLease)

OPEN = ("pending", "firing")


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


def resolve_orphans(conn: Connection, rules: Sequence[str], now: datetime) -> int:
    """Resolve the open incidents of rules no longer configured (nobody would resolve them)."""
    query = update(ALERT).where(ALERT.c.status.in_(OPEN))
    if rules:
        query = query.where(ALERT.c.rule.not_in(list(rules)))
    return int(conn.execute(query.values(status="resolved", resolved_at=now)).rowcount)


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
    return newest_first(session, _alert_filter(select(t.Alert), status, rule), ALERT.c.id, page)


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


def try_lease(
    conn: Connection,
    name: str,
    owner: str,
    now: datetime,
    ttl: timedelta,
    *,
    replacing: str | None = None,
) -> bool:
    """Hold ``name`` for ``ttl`` unless another owner's lease is still running; ``replacing``
    names a holder known to be dead, whose lease is taken over before it runs out."""
    upsert(conn, LEASE, [{"name": name, "owner": None, "expires_at": None}], ["name"])
    free = or_(LEASE.c.owner.is_(None), LEASE.c.owner == owner, LEASE.c.expires_at < now)
    if replacing is not None:
        free = or_(free, LEASE.c.owner == replacing)
    won = conn.execute(
        update(LEASE).where(LEASE.c.name == name, free).values(owner=owner, expires_at=now + ttl)
    ).rowcount
    return bool(won)


def read_lease_owner(conn: Connection, name: str) -> str | None:
    found = conn.execute(select(LEASE.c.owner).where(LEASE.c.name == name)).scalar()
    return None if found is None else str(found)


def release_lease(conn: Connection, name: str, owner: str) -> None:
    conn.execute(
        update(LEASE)
        .where(LEASE.c.name == name, LEASE.c.owner == owner)
        .values(owner=None, expires_at=None)
    )
