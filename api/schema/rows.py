"""What the entity types share: paging arguments, a row's id, relations read with a page."""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

import strawberry
from strawberry.scalars import JSON

from api.schema.connection import later
from api.schema.context import Info

Row = TypeVar("Row")

First = Annotated[int, strawberry.argument(description="Page size, at most 500.")]
After = Annotated[str | None, strawberry.argument(description="`endCursor` of the page before.")]


def row_pk(row: Any) -> int:
    ident: int | None = row.id
    assert ident is not None, "rows read from the store always have an id"
    return ident


def found(row: Row | None, what: str, ident: int) -> Row:
    # A foreign key guarantees the row; a miss means the database changed under us.
    if row is None:
        raise LookupError(f"{what} {ident} vanished while the request was served")
    return row


def labels(info: Info, which: Literal["owners", "tags"], key: tuple[str, int]) -> list[str]:
    known = info.context.known
    found = (known.owners if which == "owners" else known.tags).get(key)
    if found is not None:
        return found
    loaders = info.context.loaders
    return later((loaders.owners if which == "owners" else loaders.tags).load(key))


def facets(meta: dict[str, Any]) -> JSON | None:
    found = meta.get("openlineage")
    return JSON(found) if isinstance(found, dict) else None
