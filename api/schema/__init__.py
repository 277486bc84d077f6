"""The GraphQL schema; ``schema`` is what the app serves and ``tempox export-schema`` prints."""

from __future__ import annotations

from graphql import ASTValidationRule
from strawberry.extensions import (
    AddValidationRules,
    MaxTokensLimiter,
    ParserCache,
    ValidationCache,
    max_aliases,
    query_depth_limiter,
)

from api.limits.cost import CostLimit
from api.schema.errors import TempoxSchema
from api.schema.mutation import Mutation
from api.schema.query import Query
from api.schema.scalars import SCALAR_OVERRIDES

MAX_DEPTH = 12
MAX_ALIASES = 30
MAX_TOKENS = 5_000  # GraphiQL's introspection query is about 1,200

# The limit rules are made once, not per request as QueryDepthLimiter and MaxAliasesLimiter
# would: ValidationCache keys on the rule classes, and a fresh class each request would mean
# no validation is ever served from the cache.
LIMIT_RULES: list[type[ASTValidationRule]] = [
    query_depth_limiter.create_validator(MAX_DEPTH, should_ignore=None),
    max_aliases.create_validator(MAX_ALIASES),
]

schema = TempoxSchema(
    query=Query,
    mutation=Mutation,
    scalar_overrides=SCALAR_OVERRIDES,
    extensions=[
        # Factories, not instances: Strawberry builds extensions per request.
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: AddValidationRules(LIMIT_RULES),
        # Parsing and validating a document dominate a small query's cost, and the catalog's
        # clients send the same few documents again and again (see DESIGN.md, "API").
        ParserCache,
        ValidationCache,
        CostLimit,  # after validation, before execution
    ],
)

__all__ = ["schema"]
