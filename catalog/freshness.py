"""Freshness policies: when an asset produced at some time turns stale.

A policy is a maximum age, optionally tied to deadlines. Without deadlines, an asset is fresh
while its last production is at most ``max_age`` old. With a cron of deadlines (Dagster's cron
freshness policy, say: "by 06:00 every day, with data from after midnight"), it is fresh while
its last production is at most ``max_age`` before the latest deadline that has passed.

The cron read here is the asset's own policy, never the schedule of a pipeline that writes it:
a schedule says when a tool will try, not when the data must be there, and it may be stopped
(``Pipeline.schedule_active``) or replaced at any time. A stopped schedule therefore neither
makes an asset stale nor keeps it fresh; the missed materialisations do, once the policy's
window passes, which is what people need to hear about.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterBadCronError, CroniterBadDateError, croniter


class InvalidPolicy(ValueError):
    """A cron or time zone that cannot be evaluated."""


LATEST = datetime.max.replace(tzinfo=UTC)


def stale_after(
    last_produced: datetime | None,
    max_age_s: float | None,
    cron: str | None = None,
    timezone: str | None = None,
) -> datetime | None:
    """The first moment the asset is stale, or ``None`` (no policy, or never produced)."""
    if max_age_s is None or last_produced is None:
        return None
    try:
        covered = last_produced + timedelta(seconds=max_age_s)
        if cron is None:
            return covered
        # Stale from the first deadline whose window starts after the last production.
        zone = zone_of(timezone)
        return next_deadline(cron, covered.astimezone(zone)).astimezone(UTC)
    except (OverflowError, CroniterBadDateError):
        # Produced (or covered) so near the end of the calendar that its deadline lies past
        # it: fresh for as long as a date can say.
        return LATEST


def next_deadline(cron: str, after: datetime) -> datetime:
    """The first tick of ``cron`` strictly after ``after``, in ``after``'s time zone."""
    try:
        tick: datetime = croniter(cron, after).get_next(datetime)
    except (CroniterBadCronError, ValueError, KeyError) as exc:
        raise InvalidPolicy(f"cron {cron!r}: {exc}") from None
    return tick


def zone_of(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidPolicy(f"time zone {name!r}: {exc}") from None


def check_policy(max_age_s: float | None, cron: str | None, timezone: str | None) -> None:
    """Raise :class:`InvalidPolicy` for a policy :func:`stale_after` cannot evaluate."""
    if cron is None:
        if timezone is not None:
            raise InvalidPolicy("a freshness time zone needs a cron of deadlines")
        return
    if max_age_s is None:
        raise InvalidPolicy(f"cron {cron!r}: deadlines need a maximum age before each one")
    next_deadline(cron, datetime.now(zone_of(timezone)))
