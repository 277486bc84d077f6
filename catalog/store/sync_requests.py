"""Sync requests and claims: the SQL behind push-triggered syncs.

A push records a *request* on the source's sync state (one pending request per source: pushes
that arrive before a sync starts share it, and its id). Whichever worker next claims the
source's lease takes the request in the same transaction, so the sync it starts is the one the
callers were promised, on whichever replica; a push that arrives while a sync runs leaves a
request behind for the one follow-up sync.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select, update

from catalog.enums import SyncOutcome, SyncTrigger
from catalog.store import tables as t
from catalog.store.versions import SYNC_VERSION
from catalog.store.writes import bump

__all__ = [
    "MAX_HINTS",
    "Claim",
    "Request",
    "claim",
    "is_requested",
    "pending_hints",
    "request",
]

# Hints beyond this many are dropped: the incremental sync reads those runs anyway.
MAX_HINTS = 20

_sync = t.SyncState.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Request:
    """A push recorded: the id of the sync that will serve it; ``running`` when a sync was
    under way (the request waits for the follow-up)."""

    sync_id: str
    running: bool


@dataclass(frozen=True, slots=True)
class Claim:
    """A sync that holds the lease: its id, what started it, and the hints it was given."""

    sync_id: str
    trigger: SyncTrigger
    hints: tuple[dict[str, Any], ...]


def request(
    engine: Engine,
    source_id: int,
    hints: list[dict[str, Any]],
    now: datetime,
) -> Request | None:
    """Record a push on ``source_id`` (None: the source has no sync state). A new request
    moves the sync version, so cached answers showing sync state show it."""
    with engine.connect() as conn:
        row = conn.execute(
            select(_sync.c.requested_id, _sync.c.lease_owner, _sync.c.lease_expires_at).where(
                _sync.c.source_id == source_id
            )
        ).first()
    if row is None:
        return None
    if row.requested_id is not None and not hints:
        # A burst: the pending request already covers this push, and reading it costs no write.
        # Were it taken meanwhile, the sync that took it started after this push arrived.
        return Request(str(row.requested_id), _running(row, now))
    fresh = str(uuid.uuid4())
    with engine.begin() as conn:
        # A write first: on SQLite the transaction takes the write lock at once (a read first
        # could not upgrade once another writer committed), on PostgreSQL it locks the row.
        conn.execute(
            update(_sync)
            .where(_sync.c.source_id == source_id, _sync.c.requested_id.is_(None))
            .values(requested_id=fresh, requested_at=now, requested_hints=[])
        )
        row = conn.execute(
            select(
                _sync.c.requested_id,
                _sync.c.requested_hints,
                _sync.c.lease_owner,
                _sync.c.lease_expires_at,
            ).where(_sync.c.source_id == source_id)
        ).one()
        bump(conn, SYNC_VERSION)
        kept = list(row.requested_hints or [])
        added = [h for h in hints if h not in kept][: max(0, MAX_HINTS - len(kept))]
        if added:
            conn.execute(
                update(_sync)
                .where(_sync.c.source_id == source_id)
                .values(requested_hints=kept + added)
            )
    return Request(str(row.requested_id), _running(row, now))


def _running(row: Any, now: datetime) -> bool:
    return row.lease_owner is not None and (
        row.lease_expires_at is None or row.lease_expires_at >= now
    )


def claim(
    engine: Engine,
    source_id: int,
    owner: str,
    ttl: timedelta,
    trigger: SyncTrigger,
    now: datetime,
    *,
    replacing: str | None = None,
    only_requested: bool = False,
) -> Claim | None:
    """Claim the right to sync a source, taking the pending request if there is one.

    One conditional UPDATE decides the lease (two workers racing cannot both win); the request
    is read and cleared in the same transaction, so exactly one sync serves it. A sync that
    takes a request is a push's unless someone started it by hand. With ``only_requested``,
    the lease is claimed only while a request waits (a worker looking again for a push that
    another worker may have served meanwhile).
    """
    free = (
        (_sync.c.lease_owner.is_(None))
        | (_sync.c.lease_owner == owner)
        | (_sync.c.lease_expires_at < now)
    )
    if replacing is not None:
        free = free | (_sync.c.lease_owner == replacing)
    if only_requested:
        free = free & _sync.c.requested_id.is_not(None)
    fresh = str(uuid.uuid4())
    with engine.begin() as conn:
        claimed = conn.execute(
            update(_sync)
            .where(_sync.c.source_id == source_id)
            .where(free)
            .values(
                lease_owner=owner,
                lease_expires_at=now + ttl,
                started_at=now,
                outcome=SyncOutcome.RUNNING.value,
                batches=0,
                records=0,
                sync_id=fresh,
                trigger=trigger.value,
                syncs=_sync.c.syncs + 1,
            )
        ).rowcount
        if not claimed:
            return None
        bump(conn, SYNC_VERSION)  # a sync started: cached answers showing sync state are old
        row = conn.execute(
            select(_sync.c.requested_id, _sync.c.requested_hints).where(
                _sync.c.source_id == source_id
            )
        ).one()
        if row.requested_id is None:
            return Claim(fresh, trigger, ())
        if trigger is not SyncTrigger.MANUAL:
            trigger = SyncTrigger.PUSH
        conn.execute(
            update(_sync)
            .where(_sync.c.source_id == source_id)
            .values(
                sync_id=row.requested_id,
                trigger=trigger.value,
                requested_id=None,
                requested_at=None,
                requested_hints=None,
            )
        )
        return Claim(str(row.requested_id), trigger, tuple(row.requested_hints or ()))


def is_requested(engine: Engine, source_id: int) -> bool:
    """Whether a push waits for the next sync of ``source_id``."""
    with engine.connect() as conn:
        found = conn.execute(
            select(_sync.c.requested_id).where(_sync.c.source_id == source_id)
        ).scalar()
    return found is not None


def pending_hints(engine: Engine, source_id: int) -> tuple[dict[str, Any], ...]:
    """The hints of the request waiting for the next sync of ``source_id`` (none when no
    request waits). The request stays: the sync that claims the lease next still serves it."""
    with engine.connect() as conn:
        row = conn.execute(
            select(_sync.c.requested_id, _sync.c.requested_hints).where(
                _sync.c.source_id == source_id
            )
        ).first()
    if row is None or row.requested_id is None:
        return ()
    return tuple(row.requested_hints or ())
