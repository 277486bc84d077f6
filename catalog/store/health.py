"""The catalog's state in a few numbers, for ``/metrics``: where each source's sync stands,
finished runs counted by source and status, and how fresh the assets with a policy are.

Every read is an aggregate (one row per source, per (source, status), or one row), so a
scrape costs the same whatever the number of runs or assets a dashboard watches.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Connection, and_, case, func, select

from catalog.enums import SyncOutcome
from catalog.store import tables as t
from catalog.store.conditions import stale_condition

__all__ = [
    "FreshnessHealth",
    "RunCount",
    "SourceHealth",
    "read_freshness_health",
    "read_run_counts",
    "read_source_health",
]

_source = t.Source.__table__  # type: ignore[attr-defined]
_sync = t.SyncState.__table__  # type: ignore[attr-defined]
_run = t.Run.__table__  # type: ignore[attr-defined]
_asset = t.Asset.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class SourceHealth:
    name: str
    kind: str
    outcome: str
    started_at: datetime | None
    succeeded_at: datetime | None
    failed_at: datetime | None
    batches: int
    records: int


@dataclass(frozen=True, slots=True)
class RunCount:
    source: str
    kind: str
    status: str
    count: int


@dataclass(frozen=True, slots=True)
class FreshnessHealth:
    with_policy: int  # assets that have a freshness policy
    stale: int  # of those, past it now (never produced included)
    # Assets with a policy produced at most ``bound`` seconds ago, for each bound asked
    # (cumulative, as a Prometheus histogram counts).
    produced_within: list[int]
    never_produced: int
    oldest_produced_at: datetime | None  # the largest lag: the least recently produced


def read_source_health(conn: Connection) -> list[SourceHealth]:
    """Every source, by name, with its sync state (``never`` when it has none yet)."""
    rows = conn.execute(
        select(
            _source.c.name,
            _source.c.kind,
            _sync.c.outcome,
            _sync.c.started_at,
            _sync.c.succeeded_at,
            _sync.c.failed_at,
            _sync.c.batches,
            _sync.c.records,
        )
        .select_from(_source.outerjoin(_sync, _sync.c.source_id == _source.c.id))
        .order_by(_source.c.name)
    ).all()
    return [
        SourceHealth(
            name=r.name,
            kind=r.kind,
            outcome=r.outcome or SyncOutcome.NEVER.value,
            started_at=r.started_at,
            succeeded_at=r.succeeded_at,
            failed_at=r.failed_at,
            batches=r.batches or 0,
            records=r.records or 0,
        )
        for r in rows
    ]


def read_run_counts(conn: Connection, statuses: Sequence[str]) -> list[RunCount]:
    """Runs in one of ``statuses``, counted per (source, status)."""
    count = func.count().label("n")
    rows = conn.execute(
        select(_source.c.name, _source.c.kind, _run.c.status, count)
        .select_from(_run.join(_source, _source.c.id == _run.c.source_id))
        .where(_run.c.status.in_(list(statuses)))
        .group_by(_source.c.name, _source.c.kind, _run.c.status)
        .order_by(_source.c.name, _run.c.status)
    ).all()
    return [RunCount(r.name, r.kind, r.status, int(r.n)) for r in rows]


def read_freshness_health(
    conn: Connection, now: datetime, bounds: Sequence[datetime]
) -> FreshnessHealth:
    """Assets that have a policy: how many, how many are stale at ``now``, how many were
    produced at or after each of ``bounds``, and the oldest production among them."""
    a = _asset.c
    policy = a.freshness_max_age_s.is_not(None)

    def counted(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    columns = [
        func.count().label("with_policy"),
        counted(stale_condition(now)).label("stale"),
        counted(a.last_produced_at.is_(None)).label("never"),
        func.min(a.last_produced_at).label("oldest"),
        *(
            counted(and_(a.last_produced_at.is_not(None), a.last_produced_at >= bound))
            for bound in bounds
        ),
    ]
    row = conn.execute(select(*columns).where(policy)).one()
    return FreshnessHealth(
        with_policy=int(row.with_policy),
        stale=int(row.stale),
        produced_within=[int(v) for v in row[4:]],
        never_produced=int(row.never),
        oldest_produced_at=row.oldest,
    )
