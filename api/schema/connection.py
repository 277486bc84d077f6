"""Relay-style cursor connections: every list the API serves is one of these."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, Protocol, TypeVar, cast

import strawberry

from catalog.errors import InvalidArgument
from catalog.pagination import Page, PageRequest, decode_cursor, encode_cursor

T = TypeVar("T")
R = TypeVar("R")
Row = TypeVar("Row", bound="_HasId")


class _HasId(Protocol):
    @property
    def id(self) -> int | None: ...


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None = strawberry.field(
        description="Pass as `after` to get the next page; null on an empty page."
    )


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type(description="A page of a list; ask for the next one with `after: endCursor`.")
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    count: strawberry.Private[Callable[[], Awaitable[int]]]
    total: strawberry.Private[int | None] = None  # counted with the page already

    @strawberry.field(description="The nodes of `edges`, for clients that need no cursors.")
    def nodes(self) -> list[T]:
        return [edge.node for edge in self.edges]

    @strawberry.field(description="How many items the whole list holds; costs a count query.")
    def total_count(self) -> int:
        return self.total if self.total is not None else later(self.count())


def connection(
    page: Page[R],
    convert: Callable[[R], T],
    count: Callable[[], Awaitable[int]],
    total: int | None = None,
) -> Connection[T]:
    edges = [Edge(cursor=c, node=convert(r)) for r, c in zip(page.items, page.cursors, strict=True)]
    info = PageInfo(has_next_page=page.has_next, end_cursor=page.end_cursor)
    return Connection(edges=edges, page_info=info, count=count, total=total)


def later(pending: Awaitable[T]) -> T:
    """What a synchronous resolver returns when it has no value at hand: the awaitable, which
    graphql-core awaits (only that field then goes through the event loop)."""
    return cast("T", pending)


def slice_loaded(rows: Sequence[Row], page: PageRequest) -> Page[Row]:
    """A page of a list already loaded whole (the task runs of one run), cursors by row id."""
    start = 0
    if page.after is not None:
        (last,) = decode_cursor(page.after, arity=1)
        ids = [row.id for row in rows]
        if last not in ids:
            raise InvalidArgument("after", "is not a cursor this list returned")
        start = ids.index(last) + 1
    items = list(rows[start : start + page.first])
    cursors = [encode_cursor(row.id) for row in items]
    return Page(items, cursors, start + page.first < len(rows))
