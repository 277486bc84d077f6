"""The writes the API takes: linking assets by hand (``write``) and tokens (``admin``).

Every mutation records the authenticated principal, never a name the caller chose, on what it
changes and in the audit log. The scope each root field needs is in :data:`FIELD_SCOPES`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import strawberry

from api.schema.admin import ApiToken, CreatedToken
from api.schema.assets import AssetLink
from api.schema.context import Info, run_sync
from api.schema.enums import Scope
from catalog.config import parse_duration
from catalog.errors import InvalidArgument

# Root fields whose scope is not the default (queries: read, mutations: write); None: any
# signed-in principal. Read by api.auth.graphql before an operation runs.
FIELD_SCOPES: dict[tuple[str, str], Scope | None] = {
    ("query", "viewer"): None,
    ("query", "tokens"): Scope.ADMIN,
    ("query", "auditLog"): Scope.ADMIN,
    ("mutation", "createToken"): Scope.ADMIN,
    ("mutation", "revokeToken"): Scope.ADMIN,
}


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Say two assets are one dataset (two tools name it in ways no rule "
        "covers): lineage then crosses between them. Linking again replaces who, when, note. "
        "Who linked them is the authenticated principal. Needs `write`."
    )
    async def link_assets(
        self, info: Info, uri: str, other: str, note: str | None = None
    ) -> AssetLink:
        c, by = info.context.catalog, info.context.principal.name
        row, seen_from = await run_sync(lambda: c.link_assets(uri, other, by=by, note=note))
        return AssetLink.from_row(row, seen_from)

    @strawberry.mutation(description="Undo a link; false when the two were not linked.")
    async def unlink_assets(self, info: Info, uri: str, other: str) -> bool:
        c, by = info.context.catalog, info.context.principal.name
        return await run_sync(lambda: c.unlink_assets(uri, other, by=by))

    @strawberry.mutation(description="A new API token. Needs `admin`.")
    async def create_token(
        self,
        info: Info,
        name: str,
        scopes: list[Scope],
        expires_in: Annotated[
            str | None,
            strawberry.argument(description="How long it is valid: 30d, 12h … (default: ever)."),
        ] = None,
    ) -> CreatedToken:
        tokens, by = info.context.tokens, info.context.principal.name
        expires = _duration("expiresIn", expires_in)
        row, token = await run_sync(
            lambda: tokens.create(name, [s.value for s in scopes], by=by, expires_in=expires)
        )
        return CreatedToken(token=token, api_token=ApiToken.from_row(row))

    @strawberry.mutation(description="Revoke the active token named `name`. Needs `admin`.")
    async def revoke_token(self, info: Info, name: str) -> ApiToken:
        tokens, by = info.context.tokens, info.context.principal.name
        return ApiToken.from_row(await run_sync(lambda: tokens.revoke(name, by=by)))


def _duration(argument: str, value: str | None) -> timedelta | None:
    if value is None:
        return None
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise InvalidArgument(argument, str(exc)) from None
