"""Pages of logs kept newest first (audit events, alerts): the cursor is the last row's id."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select
from sqlalchemy.orm import Session

from catalog.errors import InvalidArgument
from catalog.pagination import Page, PageRequest, decode_cursor, encode_cursor


def newest_first(
    session: Session, query: Select[Any], id_column: ColumnElement[Any], page: PageRequest
) -> Page[Any]:
    """One page of ``query``'s rows by descending id (ids grow with time)."""
    if page.after is not None:
        (last,) = decode_cursor(page.after, arity=1)
        if not isinstance(last, int):
            raise InvalidArgument("after", "is not a cursor this list returned")
        query = query.where(id_column < last)
    rows = list(session.scalars(query.order_by(id_column.desc()).limit(page.first + 1)))
    items = rows[: page.first]
    return Page(items, [encode_cursor(r.id) for r in items], len(rows) > page.first)
