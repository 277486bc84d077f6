"""GraphQL documents parsed once: the auth check, the cost estimate and the cache all read
the same few documents again and again before execution parses them itself."""

from __future__ import annotations

from functools import lru_cache

from graphql import DocumentNode, parse

__all__ = ["parse_document"]


@lru_cache(maxsize=1024)
def parse_document(document: str) -> DocumentNode:
    """The parsed document; a :class:`graphql.GraphQLError` when it does not parse."""
    return parse(document)
