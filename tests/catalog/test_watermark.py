"""The watermark cursor of the pull adapters."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from catalog.errors import AdapterError
from catalog.watermark import read_since, since_cursor

T = datetime(2026, 11, 24, 12, 30, tzinfo=UTC)


@pytest.mark.parametrize("cursor", [None, {}, {"since": None}, {"since": ""}])
def test_no_watermark_means_from_scratch(cursor: dict[str, Any] | None) -> None:
    assert read_since("prod", "an Airflow", cursor) is None


def test_a_watermark_round_trips() -> None:
    assert read_since("prod", "an Airflow", since_cursor(T)) == T
    assert since_cursor(None) == {"since": None}


@pytest.mark.parametrize(
    ("cursor", "problem"),
    [
        ({"since": "yesterday"}, "Invalid isoformat string"),
        ({"since": "2026-11-24T12:30:00"}, "the watermark has no time zone"),
        ({"since": 17}, "Invalid isoformat string"),
    ],
)
def test_a_cursor_that_is_not_one_says_how_to_recover(cursor: dict[str, Any], problem: str) -> None:
    with pytest.raises(AdapterError) as caught:
        read_since("prod", "a Dagster", cursor)
    message = str(caught.value)
    assert message.startswith(f"source 'prod': stored cursor {cursor!r} is not a Dagster cursor")
    assert problem in message
    assert message.endswith("reset the source to sync from scratch")
