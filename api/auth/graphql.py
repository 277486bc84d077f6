"""The scopes a GraphQL operation needs, read off its root fields before it runs.

Queries (and introspection, and GraphiQL) need ``read``, mutations ``write``; a few root fields
need another scope (``admin`` for tokens and the audit log) or none beyond signing in
(``viewer``). Checked before execution, so a refusal is a 401 or 403 for the whole request,
and nothing of a half-allowed operation runs.
"""

from __future__ import annotations

from collections.abc import Mapping

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationType,
    SelectionSetNode,
    get_operation_ast,
)

from api.documents import parse_document
from catalog.auth.principal import Scope

__all__ = ["required_scopes"]

DEFAULT_SCOPE = {OperationType.QUERY: Scope.READ, OperationType.MUTATION: Scope.WRITE}


def required_scopes(
    document: str,
    operation: str | None,
    field_scopes: Mapping[tuple[str, str], Scope | None],
) -> frozenset[Scope]:
    """What running ``operation`` of ``document`` needs. ``field_scopes`` maps (``query`` or
    ``mutation``, root field) to its scope where it differs from the default (None: nothing).
    A document that does not parse needs ``read``: execution will name its error."""
    try:
        ast = parse_document(document)
    except GraphQLError:
        return frozenset({Scope.READ})
    definition = get_operation_ast(ast, operation)
    if definition is None or definition.operation not in DEFAULT_SCOPE:
        return frozenset({Scope.READ})
    kind = definition.operation
    fragments = {d.name.value: d for d in ast.definitions if isinstance(d, FragmentDefinitionNode)}
    needed: set[Scope] = set()
    for name in _root_fields(definition.selection_set, fragments, set()):
        key = (kind.value, name)
        scope = field_scopes[key] if key in field_scopes else DEFAULT_SCOPE[kind]
        if name.startswith("__"):
            scope = Scope.READ  # introspection follows the read scope
        if scope is not None:
            needed.add(scope)
    return frozenset(needed)


def _root_fields(
    selections: SelectionSetNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    seen: set[str],
) -> list[str]:
    names: list[str] = []
    for selection in selections.selections:
        if isinstance(selection, FieldNode):
            names.append(selection.name.value)
        elif isinstance(selection, InlineFragmentNode):
            names += _root_fields(selection.selection_set, fragments, seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name in fragments and name not in seen:  # a cycle is validation's to report
                seen.add(name)
                names += _root_fields(fragments[name].selection_set, fragments, seen)
    return names
