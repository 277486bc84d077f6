"""Cursors: the fast encoders write what the general one writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from catalog.pagination import (
    decode_cursor,
    encode_cursor,
    encode_id_cursor,
    encode_time_cursor,
)

MOMENTS = [
    datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
    datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=5, minutes=30))),
]


@pytest.mark.parametrize("at", MOMENTS)
@pytest.mark.parametrize("ident", [0, 1, 123456789012])
def test_time_cursors_are_the_general_encoders(at: datetime, ident: int) -> None:
    assert encode_time_cursor(at, ident) == encode_cursor(at, ident)
    assert decode_cursor(encode_time_cursor(at, ident), arity=2) == [at.isoformat(), ident]


@pytest.mark.parametrize("ident", [0, 7, 2**53])
def test_id_cursors_are_the_general_encoders(ident: int) -> None:
    assert encode_id_cursor(ident) == encode_cursor(ident)
