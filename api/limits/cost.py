"""A query's cost, estimated from its document before it runs.

Every field costs 1. A list of objects costs its items' cost times how many items it may hold:
its ``first`` argument (a connection's page), a lineage answer's ``maxNodes``, or
:data:`DEFAULT_LIST_SIZE` for small lists with no bound of their own (owners, tasks of a
pipeline). Lists of scalars cost 1. Union branches all count, so the estimate is an upper
bound. Introspection costs 1 per root field: it stays allowed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    SelectionSetNode,
    get_named_type,
    get_nullable_type,
    get_operation_ast,
)
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql.execution.values import VariableValues, get_argument_values, get_variable_values
from strawberry.extensions import SchemaExtension

from catalog.pagination import DEFAULT_PAGE

__all__ = ["DEFAULT_LIST_SIZE", "MAX_NESTING", "CostLimit", "TooDeep", "query_cost"]

DEFAULT_LIST_SIZE = 20
MAX_NESTING = 64  # deeper than any valid query here (the depth limit is 12): refused outright
_ITEMS = ("edges", "nodes")  # a connection's or a lineage graph's lists of items


class TooDeep(Exception):
    """The document nests selections deeper than :data:`MAX_NESTING`."""


def query_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: str | None,
    variables: Mapping[str, Any] | None,
) -> int:
    """The estimated cost of running ``operation``; 0 when it cannot be told (an unknown
    operation, a bad variable): validation then reports the problem."""
    definition = get_operation_ast(document, operation)
    if definition is None:
        return 0
    root = schema.get_root_type(definition.operation)
    if root is None:
        return 0
    coerced = get_variable_values(
        schema, definition.variable_definitions or (), dict(variables or {})
    )
    if isinstance(coerced, list):
        return 0  # variables that do not fit their types: execution names them
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    walker = _Walker(schema, fragments, coerced)
    try:
        return walker.cost(definition.selection_set, root, DEFAULT_PAGE, 0)
    except GraphQLError:
        return 0


class _Walker:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: VariableValues,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.spreading: set[str] = set()

    def cost(
        self, selections: SelectionSetNode, parent: GraphQLNamedType, page: int, depth: int
    ) -> int:
        if depth > MAX_NESTING:
            raise TooDeep(f"the document nests selections deeper than {MAX_NESTING} levels")
        total = 0
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                total += self._field(selection, parent, page, depth)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self.schema.get_type(condition.name.value) if condition else parent
                total += self.cost(selection.selection_set, target or parent, page, depth + 1)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in self.spreading:
                    continue  # unknown or cyclic: validation reports it
                target = self.schema.get_type(fragment.type_condition.name.value) or parent
                self.spreading.add(name)
                total += self.cost(fragment.selection_set, target, page, depth + 1)
                self.spreading.discard(name)
        return total

    def _field(self, node: FieldNode, parent: GraphQLNamedType, page: int, depth: int) -> int:
        name = node.name.value
        if name.startswith("__") or not isinstance(parent, GraphQLObjectType):
            return 1
        definition = parent.fields.get(name)
        if definition is None or node.selection_set is None:
            return 1  # a scalar (or a list of them), or a field validation will refuse
        arguments = get_argument_values(definition, node, self.variables)
        # A field with a bound of its own sets the page its items are counted by.
        bound = arguments.get("first", arguments.get("maxNodes"))
        child_page = bound if isinstance(bound, int) and bound >= 0 else page
        target = get_named_type(definition.type)
        children = self.cost(node.selection_set, target, child_page, depth + 1)
        if not isinstance(get_nullable_type(definition.type), GraphQLList):
            return 1 + children
        if isinstance(bound, int):
            items = max(bound, 0)
        elif name in _ITEMS:
            items = page
        else:
            items = DEFAULT_LIST_SIZE
        return 1 + items * children


class CostLimit(SchemaExtension):
    """Refuses, after validation and before execution, an operation whose estimated cost is
    over the context's ``max_query_cost`` (None: no limit), with an error naming both."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        most = getattr(context.context, "max_query_cost", None)
        document = context.graphql_document
        if most is not None and document is not None:
            schema = context.schema._schema
            refusal = _refusal(schema, document, context.operation_name, context.variables, most)
            if refusal is not None:
                context.result = GraphQLExecutionResult(data=None, errors=[refusal])
        yield


def _refusal(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: str | None,
    variables: Mapping[str, Any] | None,
    most: int,
) -> GraphQLError | None:
    try:
        cost = query_cost(schema, document, operation, variables)
    except TooDeep as exc:
        return GraphQLError(str(exc), extensions={"code": "QUERY_TOO_DEEP"})
    if cost <= most:
        return None
    return GraphQLError(
        f"the query would cost {cost:,}; the limit is {most:,} ([limits] max_query_cost): "
        "ask for smaller pages (`first`, `maxNodes`) or fewer nested lists",
        extensions={"code": "QUERY_TOO_COSTLY", "cost": cost, "limit": most},
    )
