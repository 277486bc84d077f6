"""The alerts' query face: the configured rules and the incidents they opened."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from catalog.alerts.settings import AlertSettings, RuleSettings
from catalog.errors import InvalidArgument
from catalog.pagination import Page, PageRequest
from catalog.store import alerts as sql
from catalog.store import tables as t
from catalog.store.store import Store

STATUSES = ("pending", "firing", "resolved")


@dataclass(frozen=True, slots=True)
class RuleState:
    settings: RuleSettings
    since: datetime | None  # when the engine first evaluated it; None: not yet


class AlertHistory:
    def __init__(self, store: Store, settings: AlertSettings) -> None:
        self.store = store
        self.settings = settings

    def rules(self) -> list[RuleState]:
        """The configured rules, in configuration order."""
        with self.store.session() as s:
            since = sql.read_rule_since(s)
        return [RuleState(r, since.get(r.name)) for r in self.settings.rules]

    def alerts(
        self, page: PageRequest, *, status: str | None = None, rule: str | None = None
    ) -> Page[t.Alert]:
        """Incidents, newest first."""
        _check_status(status)
        with self.store.session() as s:
            return sql.read_alerts(s, page, status=status, rule=rule)

    def alerts_with_deliveries(
        self, page: PageRequest, *, status: str | None = None, rule: str | None = None
    ) -> Page[tuple[t.Alert, list[t.AlertOutbox]]]:
        """Incidents, newest first, each with its notifications (one query for the page)."""
        found = self.alerts(page, status=status, rule=rule)
        deliveries = self.deliveries([a.id for a in found.items if a.id is not None])
        pairs = list(zip(found.items, deliveries, strict=True))
        return Page(pairs, found.cursors, found.has_next)

    def count_alerts(self, *, status: str | None = None, rule: str | None = None) -> int:
        _check_status(status)
        with self.store.session() as s:
            return sql.count_alerts(s, status=status, rule=rule)

    def deliveries(self, alert_ids: Sequence[int]) -> list[list[t.AlertOutbox]]:
        """Each alert's notifications, oldest first: where, what, and how delivery went."""
        with self.store.session() as s:
            return sql.read_deliveries(s, alert_ids)


def _check_status(status: str | None) -> None:
    if status is not None and status not in STATUSES:
        raise InvalidArgument("status", f"must be one of {', '.join(STATUSES)}, got {status!r}")
