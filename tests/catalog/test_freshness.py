"""Freshness policies: a maximum age, optionally before each of a cron's deadlines."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from catalog.freshness import InvalidPolicy, check_policy, stale_after

HOUR = 3600.0
DAY = 24 * HOUR


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_no_policy_or_never_produced_has_no_moment() -> None:
    assert stale_after(None, DAY) is None
    assert stale_after(at("2026-11-24T10:00"), None) is None
    assert stale_after(at("2026-11-24T10:00"), None, "0 6 * * *") is None


def test_a_maximum_age_counts_from_the_last_production() -> None:
    assert stale_after(at("2026-11-24T10:00"), DAY) == at("2026-11-25T10:00")


@pytest.mark.parametrize(
    ("produced", "stale"),
    [
        # "By 06:00 every day, with data from after midnight" (Dagster's cron policy, 6 h).
        ("2026-11-24T00:30", "2026-11-25T06:00"),  # covers today's deadline: stale at tomorrow's
        ("2026-11-24T05:59", "2026-11-25T06:00"),
        ("2026-11-23T23:59", "2026-11-24T06:00"),  # before today's window: misses today's
        ("2026-11-24T06:00", "2026-11-25T06:00"),  # at the deadline: after the window opened
        ("2026-11-24T18:00", "2026-11-25T06:00"),  # after it: good for tomorrow's
    ],
)
def test_a_cron_policy_is_stale_from_the_first_deadline_it_does_not_cover(
    produced: str, stale: str
) -> None:
    assert stale_after(at(produced), 6 * HOUR, "0 6 * * *") == at(stale)


def test_deadlines_are_read_in_their_time_zone() -> None:
    # 06:00 in New York is 11:00 UTC in winter.
    got = stale_after(at("2026-11-24T10:00"), 6 * HOUR, "0 6 * * *", "America/New_York")
    assert got == at("2026-11-25T11:00")


@pytest.mark.parametrize(
    ("max_age", "cron", "zone", "problem"),
    [
        (HOUR, "0 6 * *", None, "cron '0 6 * *'"),
        (HOUR, "0 25 * * *", None, "cron '0 25 * * *'"),
        (None, "0 6 * * *", None, "deadlines need a maximum age"),
        (HOUR, "0 6 * * *", "Mars/Olympus", "time zone 'Mars/Olympus'"),
        (HOUR, None, "UTC", "needs a cron"),
    ],
)
def test_a_policy_that_cannot_be_evaluated_is_named(
    max_age: float | None, cron: str | None, zone: str | None, problem: str
) -> None:
    with pytest.raises(InvalidPolicy, match=problem.replace("*", r"\*")):
        check_policy(max_age, cron, zone)


def test_good_policies_pass() -> None:
    check_policy(None, None, None)
    check_policy(DAY, None, None)
    check_policy(6 * HOUR, "0 6 * * 1-5", "Europe/Paris")


def test_a_deadline_past_the_end_of_the_calendar_is_the_last_moment_there_is() -> None:
    from catalog.freshness import LATEST

    late = datetime(9999, 12, 30, tzinfo=UTC)
    assert stale_after(late, 3 * 86400) == LATEST
    assert stale_after(datetime(2020, 1, 1, tzinfo=UTC), 1e300) == LATEST
    assert stale_after(datetime(9999, 12, 31, 12, tzinfo=UTC), 3600, "0 6 * * *") == LATEST
