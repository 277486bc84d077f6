"""Alert rules and the incidents they opened (alert history), with their deliveries."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry
from strawberry.scalars import JSON

from catalog.alerts.history import RuleState
from catalog.alerts.settings import RuleKind
from catalog.settings_types import format_duration
from catalog.store import tables as t

strawberry.enum(RuleKind, name="AlertRuleKind", description="What an alert rule watches.")


@strawberry.enum(description="Where an incident stands.")
class AlertStatus(Enum):
    PENDING = "pending"  # counting towards "N in a row"
    FIRING = "firing"
    RESOLVED = "resolved"


@strawberry.type(description="A configured alert rule (`[[alerts.rules]]`).")
class AlertRule:
    name: str
    when: RuleKind
    notify: list[str] = strawberry.field(description="The destinations it notifies, by name.")
    severity: str
    filters: JSON = strawberry.field(
        description="Globs by what they match: source, tool, pipeline, owner, tag, asset, check."
    )
    times: int | None = strawberry.field(description="Fires after this many in a row.")
    for_duration: str | None = strawberry.field(
        description="sync_failing: fires when no sync succeeded for this long (`for`)."
    )
    lookback: str | None = strawberry.field(
        description="What happened this long before the rule existed still fires it."
    )
    repeat: str | None = strawberry.field(description="Notifies again while firing, this often.")
    since: datetime | None = strawberry.field(
        description="When the rule was first evaluated: it fires for what happens after "
        "(less its lookback). Null until then."
    )

    @classmethod
    def from_state(cls, state: RuleState) -> AlertRule:
        r = state.settings
        return cls(
            name=r.name,
            when=r.when,
            notify=list(r.notify),
            severity=r.severity,
            filters=JSON({k: list(v) for k, v in r.filters.items()}),
            times=r.times,
            for_duration=format_duration(r.for_) if r.for_ else None,
            lookback=format_duration(r.lookback) if r.lookback else None,
            repeat=format_duration(r.repeat) if r.repeat else None,
            since=state.since,
        )


@strawberry.type(description="One notification of an alert to one destination.")
class AlertDelivery:
    destination: str
    action: str = strawberry.field(description="`trigger` or `resolve`.")
    state: str = strawberry.field(
        description="`pending` (to send, or retrying), `sent`, or `dropped` (refused by the "
        "destination as invalid, or older than `[alerts] give_up_after`)."
    )
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None
    last_error: str | None

    @classmethod
    def from_row(cls, row: t.AlertOutbox) -> AlertDelivery:
        return cls(
            destination=row.destination,
            action=row.action,
            state=row.state,
            attempts=row.attempts,
            created_at=row.created_at,
            next_attempt_at=row.next_attempt_at,
            sent_at=row.sent_at,
            last_error=row.last_error,
        )


@strawberry.type(description="An incident of an alert rule: opened once, resolved when it clears.")
class Alert:
    id: strawberry.ID
    rule: str
    kind: RuleKind
    key: str = strawberry.field(description="What it is about: `pipeline:<id>`, `asset:<id>` …")
    status: AlertStatus
    severity: str
    title: str
    count: int = strawberry.field(description="Occurrences in a row (failed runs, syncs).")
    silenced: bool
    started_at: datetime
    last_event_at: datetime
    fired_at: datetime | None
    notified_at: datetime | None
    resolved_at: datetime | None
    details: JSON = strawberry.field(
        description="What the alert says: source, pipeline, run (error, UI link), owners, and "
        "the impact downstream in every tool with its owners."
    )
    deliveries: list[AlertDelivery]

    @classmethod
    def from_row(cls, row: t.Alert, deliveries: list[t.AlertOutbox]) -> Alert:
        return cls(
            id=strawberry.ID(str(row.id)),
            rule=row.rule,
            kind=RuleKind(row.kind),
            key=row.key,
            status=AlertStatus(row.status),
            severity=row.severity,
            title=row.title,
            count=row.count,
            silenced=row.silenced,
            started_at=row.started_at,
            last_event_at=row.last_event_at,
            fired_at=row.fired_at,
            notified_at=row.notified_at,
            resolved_at=row.resolved_at,
            details=JSON(row.details),
            deliveries=[AlertDelivery.from_row(d) for d in deliveries],
        )
