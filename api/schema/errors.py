"""How errors reach clients: a user's mistake is named, a bug is logged and kept private.

- ``InvalidArgument`` from the catalog: its message (which names the argument) with
  ``extensions.code = BAD_USER_INPUT`` and ``extensions.argument``.
- Other deliberate catalog errors (``TempoxError``): their message as it is.
- Anything else raised in a resolver: a generic message; the traceback goes to the log.
- Parse, validation and variable errors from graphql-core keep their message, prefixed with the
  argument they are about when the document shows it, and get a code.
"""

from __future__ import annotations

import logging
from typing import Any

from graphql import (
    BREAK,
    ArgumentNode,
    GraphQLError,
    Node,
    ObjectFieldNode,
    ValueNode,
    Visitor,
    parse,
    visit,
)
from strawberry import Schema
from strawberry.types import ExecutionContext, ExecutionResult

from catalog.errors import InvalidArgument, TempoxError

log = logging.getLogger("tempox.api")

BAD_USER_INPUT = "BAD_USER_INPUT"
INTERNAL = "INTERNAL_SERVER_ERROR"
INTERNAL_MESSAGE = "Internal server error; the server log has the details."


def _is_unexpected(error: GraphQLError) -> bool:
    # Only resolvers (errors with a path) can fail unexpectedly; an error without a path is a
    # document or variable the client sent, even when a scalar's ValueError lies beneath it.
    original = error.original_error
    return (
        error.path is not None
        and original is not None
        and not isinstance(original, (TempoxError, GraphQLError))
    )


def _code(error: GraphQLError) -> str:
    original = error.original_error
    if isinstance(original, InvalidArgument):
        return BAD_USER_INPUT
    if isinstance(original, TempoxError):
        return "CATALOG_ERROR"
    if error.path is not None:
        return INTERNAL
    if error.message.startswith("Syntax Error"):
        return "GRAPHQL_PARSE_FAILED"
    if error.message.startswith("Variable '$"):
        return BAD_USER_INPUT  # a variable's value does not fit its type
    return "GRAPHQL_VALIDATION_FAILED"


class _ArgumentOf(Visitor):
    """Finds the argument (``filter.status``) that holds the value node an error points at."""

    def __init__(self, target: Node) -> None:
        super().__init__()
        self.target = target
        self.argument: str | None = None

    def enter(self, node: Node, _key: Any, parent: Any, _path: Any, ancestors: Any) -> Any:
        if type(node) is not type(self.target) or node.loc is None or self.target.loc is None:
            return None
        if node.loc.start != self.target.loc.start:
            return None
        names: list[str] = []
        for n in [*ancestors, parent, node]:  # ancestors stop short of the parent
            if isinstance(n, ArgumentNode):
                names = [n.name.value]
            elif isinstance(n, ObjectFieldNode) and names:
                names.append(n.name.value)
        self.argument = ".".join(names) or None
        return BREAK


def _argument_of(error: GraphQLError) -> str | None:
    if not error.nodes or not isinstance(error.nodes[0], ValueNode) or error.source is None:
        return None
    # Only on the error path: parse again to see the value's ancestors, which nodes lack.
    finder = _ArgumentOf(error.nodes[0])
    visit(parse(error.source), finder)
    return finder.argument


def shape_error(error: GraphQLError) -> GraphQLError:
    # A code set where the error was made (the cost limit's, say) stands.
    extensions: dict[str, Any] = {"code": _code(error), **(error.extensions or {})}
    original = error.original_error
    message = error.message
    if isinstance(original, InvalidArgument):
        extensions["argument"] = original.argument
    elif _is_unexpected(error):
        message = INTERNAL_MESSAGE
    elif error.path is None and (argument := _argument_of(error)):
        extensions["argument"] = argument
        message = f"argument '{argument}': {message}"
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions=extensions,
    )


class TempoxSchema(Schema):
    """Strawberry's schema, with errors shaped for clients and bugs logged with tracebacks."""

    async def execute(self, *args: Any, **kwargs: Any) -> ExecutionResult:
        # Shaped here rather than in an extension: parse errors skip extensions' exit hooks.
        result = await super().execute(*args, **kwargs)
        if result.errors:
            result.errors = [shape_error(e) for e in result.errors]
        return result

    def execute_sync(self, *args: Any, **kwargs: Any) -> ExecutionResult:
        result = super().execute_sync(*args, **kwargs)
        if result.errors:
            result.errors = [shape_error(e) for e in result.errors]
        return result

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Sees the original errors: log bugs with their traceback, and keep clients' mistakes
        # out of the error log.
        for error in errors:
            original = error.original_error
            if _is_unexpected(error) and original is not None:
                path = ".".join(map(str, error.path or ()))
                log.error(
                    "resolver %s failed",
                    path,
                    exc_info=(type(original), original, original.__traceback__),
                )
            else:
                log.debug("client error: %s", error.message)
