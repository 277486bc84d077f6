from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from api.demo.timeshift import TimeShift

START = datetime(2026, 11, 24, 10, tzinfo=UTC)
END = START + timedelta(minutes=30)
SHIFT = TimeShift(timedelta(days=3, seconds=1), START, END)
T = int(START.timestamp())


@pytest.mark.parametrize(
    ("recorded", "replayed"),
    [
        ('"2026-11-24T10:00:00Z"', '"2026-11-27T10:00:01Z"'),
        ("2026-11-24T10:00:00.123456+00:00", "2026-11-27T10:00:01.123456+00:00"),
        ("2026-11-24T10:00:00.120Z", "2026-11-27T10:00:01.120Z"),
        ("2026-11-24 23:59:59.123456789Z", "2026-11-28 00:00:00.123456789Z"),  # nanoseconds
        ("2026-11-24T11:00:00+01:00", "2026-11-27T11:00:01+01:00"),  # offset kept
        ("2026-11-24T11:00:00+0100", "2026-11-27T11:00:01+0100"),
        ("2026-11-24T10:00:00", "2026-11-27T10:00:01"),  # naive stays naive
        ("a date alone 2026-11-24 stays", "a date alone 2026-11-24 stays"),
        (f'{{"startTime": {T}.25}}', f'{{"startTime": {T + 259201}.25}}'),
        (f'{{"timestamp": "{T}500"}}', f'{{"timestamp": "{T + 259201}500"}}'),  # milliseconds
        (f'"updateTime": {T}', f'"updateTime": {T + 259201}'),
    ],
)
def test_times_move_and_keep_their_format(recorded: str, replayed: str) -> None:
    assert SHIFT.text(recorded) == replayed


@pytest.mark.parametrize(
    "kept",
    [
        '{"rows": 1234567890}',  # a number of Unix-time size, but years before the recording
        f"run-{T}",  # part of a name
        "a3f9c2d1-1795514400-abcd",
    ],
)
def test_numbers_outside_the_recording_window_or_in_words_stay(kept: str) -> None:
    assert SHIFT.text(kept) == kept


def test_http_dates_move_and_garbage_stays() -> None:
    assert SHIFT.http_date("Tue, 24 Nov 2026 10:00:00 GMT") == "Fri, 27 Nov 2026 10:00:01 GMT"
    assert SHIFT.http_date("yesterday") == "yesterday"


def test_masking_hides_every_time_so_shifted_requests_match() -> None:
    recorded = f'/api/runs?updated_at_gte=2026-11-24T10:00:00Z {{"after": {T}.5, "limit": 100}}'
    replayed = SHIFT.text(recorded)
    assert replayed != recorded
    assert SHIFT.mask(replayed) == SHIFT.mask(recorded)
    assert SHIFT.mask(recorded) == '/api/runs?updated_at_gte=<time> {"after": <time>, "limit": 100}'


def test_compact_json_times_move() -> None:
    assert SHIFT.text(f'{{"startTime":{T}.5,"n":1}}') == f'{{"startTime":{T + 259201}.5,"n":1}}'
