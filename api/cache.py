"""Whole-response caching for GraphQL queries, keyed on the catalog's data version.

The catalog changes only when a sync or an event commits, and every such commit moves the
store's ``data_version``. So a query's answer is a pure function of (document, variables,
operation, data version) — and, when it depends on the time of asking ("failed in the last
seven days", "stale now"), of the request's "now", which the app rounds down to a few seconds
(``api.schema.context.CLOCK_STEP``): such an answer is kept with the "now" it was computed at
and served only to requests whose rounded "now" is the same. A response with errors is never
cached. Several API processes each keep their own cache; the
version lives in the shared store, so none of them can serve an answer older than a commit.

A source's sync state changes without the data changing (a sync that found nothing new, or
failed): the store's ``sync_version`` moves then, not the data version. An answer that shows
sync state (the resolver says so) is kept with the sync version it was computed at and is
served only while that version stands, so "how did the last sync go?" is true at the very next
query, while answers that show no sync state survive every sync that wrote nothing.
"""

from __future__ import annotations

import json
import threading
from datetime import datetime
from typing import Any

import orjson
from cachetools import LRUCache
from graphql import GraphQLError, OperationType, get_operation_ast
from strawberry.types.execution import ExecutionResult

from api.documents import parse_document

Key = tuple[str, str, str | None, int]
DEFAULT_BYTES = 64 * 1024 * 1024
DEFAULT_ENTRY_BYTES = 1024 * 1024
ENTRY_OVERHEAD = 200  # the key tuple, the entry and the LRU's bookkeeping, roughly


class Encoded(dict[str, Any]):
    """A query's ``data``, already encoded as JSON: the bytes the cache keeps, written into
    the response as they are (see ``GraphQLApp.encode_json``)."""

    def __init__(self, raw: bytes) -> None:
        super().__init__()
        self.raw = raw


def encode(data: Any) -> bytes:
    try:
        return orjson.dumps(data)
    except TypeError:  # an integer beyond 64 bits in a JSON scalar: the standard library's turn
        return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()


class ResponseCache:
    """Answers by (document, variables, operation, data version), bounded in bytes: the
    encoded answers plus their keys count, least recently used go first, and an answer larger
    than ``max_entry_bytes`` is not kept at all."""

    def __init__(
        self, max_bytes: int = DEFAULT_BYTES, max_entry_bytes: int = DEFAULT_ENTRY_BYTES
    ) -> None:
        self.max_bytes = max_bytes
        self.max_entry_bytes = min(max_entry_bytes, max_bytes)
        # An entry is (answer, bytes it holds, sync version it shows or None, the "now" it was
        # computed at when it read the clock or None): the key's text counts too, since a 1 MB
        # document is 1 MB held.
        self._entries: LRUCache[Key, tuple[bytes, int, int | None, datetime | None]] = LRUCache(
            maxsize=max(max_bytes, 1), getsizeof=lambda entry: entry[1]
        )
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @property
    def size(self) -> int:
        """Bytes held now."""
        with self._lock:
            return int(self._entries.currsize)

    @staticmethod
    def key(
        query: str, variables: dict[str, Any] | None, operation: str | None, version: int
    ) -> Key:
        return (query, json.dumps(variables or {}, sort_keys=True, default=str), operation, version)

    def get(
        self, key: Key, sync_version: int = 0, now: datetime | None = None
    ) -> ExecutionResult | None:
        """The kept answer, unless there is none, it shows a sync state other than
        ``sync_version``'s, or it read the clock at another "now" than ``now``."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and (
                entry[2] not in (None, sync_version) or entry[3] not in (None, now)
            ):
                entry = None
            if entry is None:
                self.misses += 1
                return None
            self.hits += 1
        return ExecutionResult(data=Encoded(entry[0]), errors=None)

    def put(
        self,
        key: Key,
        result: ExecutionResult,
        sync_version: int | None = None,
        now: datetime | None = None,
    ) -> ExecutionResult:
        """Keep ``result`` if it may be kept; returns what to answer with (encoded once).
        ``sync_version``: the one it was computed at, when it shows sync state (else None);
        ``now``: the "now" it read, when it read the clock (else None)."""
        if result.errors or result.data is None or result.extensions:
            return result
        answer = encode(result.data)
        held = len(answer) + len(key[0]) + len(key[1]) + ENTRY_OVERHEAD
        if held <= self.max_entry_bytes:
            with self._lock:
                self._entries[key] = (answer, held, sync_version, now)
        return ExecutionResult(data=Encoded(answer), errors=None)


def is_query(document: str, operation: str | None) -> bool:
    """Whether the operation is a query: mutations must run every time, whatever the cache."""
    try:
        ast = get_operation_ast(parse_document(document), operation)
    except GraphQLError:
        return False  # let execution report the syntax error
    return ast is not None and ast.operation is OperationType.QUERY
