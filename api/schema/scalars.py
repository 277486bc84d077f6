"""Scalars whose refusals read as advice, not as the parser's internals."""

from __future__ import annotations

import datetime as dt

from strawberry.types.scalar import ScalarDefinition

EXAMPLE = "2026-11-23T16:00:00Z"


def parse_datetime(value: object) -> dt.datetime:
    # ValueError (not a GraphQLError) so that graphql-core points the error at the value and
    # the error shaping can name the argument it was given for.
    if not isinstance(value, str):
        raise ValueError(f"a date-time is a string such as {EXAMPLE}")
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"not an ISO 8601 date-time; write it as {EXAMPLE}") from None


DATETIME = ScalarDefinition(
    name="DateTime",
    description="Date with time (isoformat)",
    specified_by_url=None,
    serialize=dt.datetime.isoformat,
    parse_value=parse_datetime,
    parse_literal=None,
    origin=dt.datetime,
)

SCALAR_OVERRIDES: dict[object, ScalarDefinition] = {dt.datetime: DATETIME}
