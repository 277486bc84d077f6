"""Whole-response caching for GraphQL queries, keyed on the catalog's data version.

The catalog changes only when a sync or an event commits, and every such commit moves the
store's ``data_version``. So a query's answer is a pure function of (document, variables,
operation, data version) — unless it depends on the time of asking ("failed in the last seven
days", "stale now"); such answers read the request's clock and are never cached. A response
with errors is never cached either. Several API processes each keep their own cache; the
version lives in the shared store, so none of them can serve an answer older than a commit.
"""

from __future__ import annotations

import json
import threading
from functools import lru_cache
from typing import Any

from cachetools import LRUCache
from graphql import GraphQLError, OperationType, get_operation_ast, parse
from strawberry.types.execution import ExecutionResult

Key = tuple[str, str, str | None, int]


class ResponseCache:
    def __init__(self, maxsize: int = 2048) -> None:
        self._entries: LRUCache[Key, Any] = LRUCache(maxsize=maxsize)
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(
        query: str, variables: dict[str, Any] | None, operation: str | None, version: int
    ) -> Key:
        return (query, json.dumps(variables or {}, sort_keys=True, default=str), operation, version)

    def get(self, key: Key) -> ExecutionResult | None:
        with self._lock:
            data = self._entries.get(key)
            if data is None:
                self.misses += 1
                return None
            self.hits += 1
        return ExecutionResult(data=data, errors=None)

    def put(self, key: Key, result: ExecutionResult) -> None:
        if result.errors or result.data is None:
            return
        with self._lock:
            self._entries[key] = result.data


@lru_cache(maxsize=1024)
def is_query(document: str, operation: str | None) -> bool:
    """Whether the operation is a query: mutations must run every time, whatever the cache."""
    try:
        ast = get_operation_ast(parse(document), operation)
    except GraphQLError:
        return False  # let execution report the syntax error
    return ast is not None and ast.operation is OperationType.QUERY
