"""Which operation name a GraphQL request is counted under: one of the named operations the
repository ships (``graphql/operations/*.graphql``, what the README, UI and dashboards use), or
``other``, so no client can grow a metric's series by inventing names."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from graphql import GraphQLError, OperationDefinitionNode

from api.documents import parse_document

__all__ = ["OTHER", "known_operations", "operation_label"]

OTHER = "other"
OPERATIONS = Path(__file__).resolve().parents[2] / "graphql" / "operations"


@lru_cache(maxsize=1)
def known_operations() -> frozenset[str]:
    """The names of the shipped operations (none when Tempox runs without its repository)."""
    if not OPERATIONS.is_dir():
        return frozenset()
    return frozenset(path.stem for path in OPERATIONS.glob("*.graphql"))


def operation_label(document: str | None, operation: str | None) -> str:
    """The label of the operation a request runs: its name if it is a shipped one."""
    name = operation
    if name is None and document is not None:
        try:
            parsed = parse_document(document)
        except GraphQLError:
            return OTHER
        named = [d for d in parsed.definitions if isinstance(d, OperationDefinitionNode)]
        if len(named) == 1 and named[0].name is not None:
            name = named[0].name.value
    return name if name is not None and name in known_operations() else OTHER
