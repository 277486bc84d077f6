"""Membership in a list of values, bound as one parameter however long the list is.

``column.in_(values)`` binds one parameter per value: SQLAlchemy renders the list anew for
every execution (its statement cache cannot hold the text), the server parses and plans a
statement of hundreds of parameters, and SQLite's bound-parameter limit forces callers to
split the list. :func:`in_values` binds the whole list once: PostgreSQL receives an array
(``column = ANY(:values)``), SQLite a JSON array it reads with ``json_each``. One statement,
one plan, any length; an empty list matches nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Boolean, Dialect, String, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import BindParameter, ColumnElement
from sqlalchemy.sql.type_api import TypeEngine
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import TypeDecorator


class _ValueList(TypeDecorator[list[Any]]):
    """A list of values of one column type, as the dialect's driver takes it."""

    impl = String
    cache_ok = True

    def __init__(self, item: TypeEngine[Any]) -> None:
        super().__init__()
        self.item = item

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(ARRAY(self.item))
        return dialect.type_descriptor(String())

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if dialect.name == "postgresql":
            return list(value)
        return json.dumps(list(value))


class InValues(ColumnElement[bool]):
    """``column`` is one of a list of values (see :func:`in_values`)."""

    inherit_cache = True
    type = Boolean()
    _is_implicitly_boolean = True  # a condition: no "= 1" appended where booleans are ints
    _traverse_internals = [
        ("column", InternalTraversal.dp_clauseelement),
        ("values", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, column: ColumnElement[Any], values: BindParameter[Any]) -> None:
        self.column = column
        self.values = values


def in_values(
    column: ColumnElement[Any], values: Iterable[Any] = (), *, key: str | None = None
) -> InValues:
    """``column`` equals one of ``values`` (ints or strings), bound as one parameter; with
    ``key``, a parameter of that name, given when the statement is run."""
    kind = _ValueList(column.type)
    bound = bindparam(key, type_=kind) if key else bindparam(None, list(values), type_=kind)
    return InValues(column, bound)


@compiles(InValues, "postgresql")
def _postgresql(element: InValues, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    return f"{column} = ANY({compiler.process(element.values, **kw)})"


@compiles(InValues, "sqlite")
def _sqlite(element: InValues, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    return f"{column} IN (SELECT value FROM json_each({compiler.process(element.values, **kw)}))"
