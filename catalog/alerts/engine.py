"""From findings to incidents: deduplicated, resolved, silenced, repeated, notified.

For each rule: a key found for the first time opens an incident (pending until it has
occurred ``times`` in a row), a key no longer found resolves it; firing and resolving write
their notifications to the outbox in the same transaction as the incident, so nothing decided
is lost. Conditions that began before the rule existed (less its ``lookback``) are history:
they open nothing, so the first sync of an existing estate pages nobody.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from catalog.alerts.messages import describe_impact, payload
from catalog.alerts.rules import EVALUATORS, Finding
from catalog.alerts.settings import AlertSettings, RuleSettings, matches
from catalog.secrets import redact
from catalog.service import Catalog
from catalog.store import alerts as sql
from catalog.store.store import utcnow

__all__ = ["AlertEngine", "Evaluation"]

log = logging.getLogger("tempox.alerts")


@dataclass(slots=True)
class Evaluation:
    """What one evaluation decided, all rules together."""

    opened: int = 0  # incidents opened (pending or firing)
    fired: int = 0  # incidents that started firing
    resolved: int = 0
    notifications: int = 0  # outbox rows written
    failed_rules: int = 0


class AlertEngine:
    def __init__(
        self,
        catalog: Catalog,
        settings: AlertSettings,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.catalog = catalog
        self.settings = settings
        self.clock = clock

    def evaluate(self) -> Evaluation:
        """Evaluate every rule once; one rule's failure is logged and never stops the others."""
        result = Evaluation()
        now = self.clock()
        with self.catalog.store.transaction() as conn:
            since = sql.ensure_rules(
                conn, [(r.name, r.when.value) for r in self.settings.rules], now
            )
            # A rule taken out of the configuration takes its open incidents with it, silently
            # (its destinations may be gone too).
            result.resolved += sql.resolve_orphans(conn, [r.name for r in self.settings.rules], now)
        for rule in self.settings.rules:
            start = since[rule.name] - (rule.lookback or timedelta(0))
            try:
                self._evaluate(rule, start, now, result)
            except Exception as exc:
                result.failed_rules += 1
                log.warning("alert rule %s: %s", rule.name, redact(str(exc)), exc_info=True)
        return result

    def _evaluate(
        self, rule: RuleSettings, since: datetime, now: datetime, out: Evaluation
    ) -> None:
        with self.catalog.store.engine.connect() as conn:
            open_ = {a.key: a for a in sql.read_open_alerts(conn, rule.name)}
        findings = {f.key: f for f in EVALUATORS[rule.when](self.catalog, rule, since, now, open_)}
        writes: list[Callable[[Any], None]] = []
        for key, f in findings.items():
            have = open_.get(key)
            if have is None and f.event_at < since:
                continue  # history: it happened before the rule existed
            writes.append(self._decide(rule, f, have, now, out))
        for key, have in open_.items():
            if key not in findings:
                writes.append(self._resolve(rule, have, now, out))
        if writes:
            with self.catalog.store.transaction() as conn:
                for write in writes:
                    write(conn)

    def _silenced(self, rule: RuleSettings, f: Finding, now: datetime) -> bool:
        for s in self.settings.silences:
            if not s.active(now) or not matches(s.rule, rule.name):
                continue
            labels = f.labels
            if (
                (not s.source or matches(s.source, labels.get("source")))
                and (not s.pipeline or matches(s.pipeline, labels.get("pipeline")))
                and (not s.asset or matches(s.asset, labels.get("asset")))
            ):
                return True
        return False

    def _details(self, f: Finding) -> dict[str, Any]:
        details = dict(f.facts)
        details["impact"] = describe_impact(
            self.catalog,
            run_id=f.run_id,
            asset_id=f.asset_id,
            limit=self.settings.max_downstream,
        )
        return details

    def _decide(
        self, rule: RuleSettings, f: Finding, have: Any, now: datetime, out: Evaluation
    ) -> Callable[[Any], None]:
        if have is None:
            count = f.count
        else:
            count = max(f.count, have.count + (1 if f.event_at > have.last_event_at else 0))
        firing = count >= f.threshold or f.due
        was_firing = have is not None and have.status == "firing"
        silenced = firing and self._silenced(rule, f, now)
        due_again = (
            was_firing
            and have.notified_at is not None
            and rule.repeat is not None
            and now - have.notified_at >= rule.repeat
        )
        first = not was_firing or have.notified_at is None
        notify = firing and not silenced and bool(rule.notify) and (first or due_again)
        moved = have is None or f.event_at > have.last_event_at or firing != was_firing
        details = self._details(f) if (notify or moved) else dict(have.details)
        values: dict[str, Any] = {
            "status": "firing" if firing else "pending",
            "title": f.title,
            "count": count,
            "silenced": silenced,
            "last_event_at": max(f.event_at, have.last_event_at)
            if have is not None
            else f.event_at,
            "details": details,
        }
        if firing and not was_firing:
            values["fired_at"] = now
            out.fired += 1
        if notify:
            values["notified_at"] = now
            out.notifications += len(rule.notify)
        if have is None:
            out.opened += 1
            values |= {
                "rule": rule.name,
                "kind": rule.when.value,
                "key": f.key,
                "severity": rule.severity,
                "started_at": f.started_at,
            }

        def write(conn: Any) -> None:
            alert_id = have.id if have is not None else sql.insert_alert(conn, values)
            if have is not None:
                sql.update_alert(conn, alert_id, values)
            if notify:
                body = payload(
                    alert_id=alert_id,
                    rule=rule.name,
                    kind=rule.when.value,
                    key=f.key,
                    severity=rule.severity,
                    title=f.title,
                    action="trigger",
                    count=count,
                    started_at=values.get("started_at") or have.started_at,
                    at=now,
                    details=details,
                    public_url=self.settings.public_url,
                )
                sql.enqueue(conn, alert_id, rule.notify, "trigger", body, now)

        return write

    def _resolve(
        self, rule: RuleSettings, have: Any, now: datetime, out: Evaluation
    ) -> Callable[[Any], None]:
        notify = have.status == "firing" and have.notified_at is not None and bool(rule.notify)
        out.resolved += 1
        if notify:
            out.notifications += len(rule.notify)

        def write(conn: Any) -> None:
            sql.update_alert(conn, have.id, {"status": "resolved", "resolved_at": now})
            if notify:
                body = payload(
                    alert_id=have.id,
                    rule=rule.name,
                    kind=have.kind,
                    key=have.key,
                    severity=have.severity,
                    title=have.title,
                    action="resolve",
                    count=have.count,
                    started_at=have.started_at,
                    at=now,
                    details=dict(have.details),
                    public_url=self.settings.public_url,
                )
                sql.enqueue(conn, have.id, rule.notify, "resolve", body, now)

        return write
