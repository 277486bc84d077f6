"""What a client selected below a field: for a list resolver to read, with its page, the rows
the selection will show (a run's pipeline and its owners) instead of leaving each item to ask."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from strawberry.types.nodes import SelectedField, Selection

from api.schema.context import Info

__all__ = ["item_fields", "selected"]


def _fields(selections: Iterable[Selection]) -> Iterator[SelectedField]:
    # Fragments are expanded whatever their type condition, and @skip/@include are not read:
    # a field counted that will not be resolved costs a prefetch, never a wrong answer.
    for selection in selections:
        if isinstance(selection, SelectedField):
            yield selection
        else:
            yield from _fields(selection.selections)


def selected(info: Info, *path: str) -> set[str]:
    """Names of the fields selected at ``path`` below the current field."""
    level: list[Selection] = [c for f in _fields(info.selected_fields) for c in f.selections]
    for name in path:
        level = [c for f in _fields(level) if f.name == name for c in f.selections]
    return {f.name for f in _fields(level)}


def item_fields(info: Info, *path: str) -> set[str]:
    """Of a connection: the fields selected on its items (``nodes`` or ``edges.node``) at
    ``path`` below them."""
    return selected(info, "nodes", *path) | selected(info, "edges", "node", *path)


def any_of(names: set[str], wanted: Sequence[str]) -> bool:
    return any(n in names for n in wanted)
