"""Named operations answered without the general executor (persisted queries, compiled).

Executing a list query field by field through graphql-core costs several thousand awaitables
and resolver calls for a page of a hundred runs; the same answer built straight from the rows
costs a few dictionaries. So the documents of ``graphql/operations/`` whose answers are lists
(:data:`api.direct.answers.ANSWERS`) have a direct path: when a request's document is one of
them character for character, its variables are coerced by graphql-core against the served
schema, its cost is checked as :class:`api.limits.cost.CostLimit` checks it, the page and the
rows its selection shows are read in one call into the catalog, and the answer is built here.

Anything else goes to the general executor, which answers and words errors as it always has:
another document, a variable that does not coerce, a query over the cost limit, a cursor or
argument the catalog refuses, a start node that is not in the catalog. ``tests/api/
test_direct.py`` holds both paths to the same answers, operation by operation.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cachetools import LRUCache
from graphql import GraphQLSchema, OperationDefinitionNode, get_operation_ast
from graphql.execution.values import get_variable_values

from api.direct.answers import ANSWERS
from api.documents import parse_document
from api.limits.cost import TooDeep, query_cost
from api.schema.context import Context

__all__ = ["OPERATIONS", "Compiled", "DirectPath"]

OPERATIONS = Path(__file__).resolve().parents[2] / "graphql" / "operations"
log = logging.getLogger(__name__)
COSTS_KEPT = 4096


@dataclass(frozen=True, slots=True)
class Compiled:
    name: str
    definition: OperationDefinitionNode
    answer: Callable[[dict[str, Any], Context], dict[str, Any] | None]


class DirectPath:
    def __init__(self, schema: GraphQLSchema, folder: Path = OPERATIONS) -> None:
        self.schema = schema
        self._by_document: dict[str, Compiled] = {}
        for name, answer in ANSWERS.items():
            document = (folder / f"{name}.graphql").read_text()
            definition = get_operation_ast(parse_document(document), name)
            assert definition is not None, f"graphql/operations/{name}.graphql names {name}"
            self._by_document[document] = Compiled(name, definition, answer)
        self.answered = 0  # by the direct path (for the benchmarks' curiosity)
        self._costs: LRUCache[tuple[str, str], float] = LRUCache(maxsize=COSTS_KEPT)
        self._lock = threading.Lock()

    def match(self, document: str, operation: str | None) -> Compiled | None:
        found = self._by_document.get(document)
        if found is None or operation not in (None, found.name):
            return None
        return found

    def answer(
        self, compiled: Compiled, variables: dict[str, Any] | None, context: Context
    ) -> dict[str, Any] | None:
        """The operation's ``data``, or None: let the general executor answer."""
        coerced = get_variable_values(
            self.schema, compiled.definition.variable_definitions or (), dict(variables or {})
        )
        if isinstance(coerced, list):
            return None  # the executor names the bad variable
        most = context.max_query_cost
        if most is not None and self._cost(compiled, coerced.coerced, variables) > most:
            return None
        try:
            data = compiled.answer(coerced.coerced, context)
        except Exception:
            log.debug("direct path declined %s", compiled.name, exc_info=True)
            return None
        if data is not None:
            self.answered += 1
        return data

    def _cost(
        self, compiled: Compiled, coerced: dict[str, Any], variables: dict[str, Any] | None
    ) -> float:
        # The cost is a function of the document and its coerced variables: kept by them.
        key = (compiled.name, repr(sorted(coerced.items())))
        with self._lock:
            known = self._costs.get(key)
        if known is None:
            try:
                document = parse_document_of(compiled)
                known = query_cost(self.schema, document, compiled.name, variables)
            except TooDeep:
                known = math.inf
            if " at 0x" not in key[1]:  # a value shown by its address is no key
                with self._lock:
                    self._costs[key] = known
        return known


def parse_document_of(compiled: Compiled) -> Any:
    loc = compiled.definition.loc
    assert loc is not None
    return parse_document(loc.source.body)
