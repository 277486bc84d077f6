from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.dialects.sqlite import DATETIME

from catalog.store.bulk import _sqlite_json, _sqlite_time

SQLALCHEMY = DATETIME().bind_processor(None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "value",
    [
        datetime(2026, 1, 1, tzinfo=UTC),
        datetime(2026, 1, 1, 5, 6, 7, 89, tzinfo=timezone(timedelta(hours=2))),
        datetime(2026, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
        datetime(1, 1, 1),
        datetime(2026, 6, 1, 12),
    ],
)
def test_driver_path_writes_the_same_text_as_sqlalchemy(value: datetime) -> None:
    # Rows written by the bulk path and by the ORM must compare and sort alike in SQLite.
    naive = value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    assert _sqlite_time(value) == SQLALCHEMY(naive)


def test_json_round_trips() -> None:
    assert _sqlite_json({}) == "{}"
    assert _sqlite_json({"a": [1, "é"]}) == '{"a": [1, "\\u00e9"]}'
    assert _sqlite_json(None) is None
