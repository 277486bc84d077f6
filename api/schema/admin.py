"""Who is asking, API tokens and the audit log: the ``admin`` corner of the API."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from api.schema.enums import Scope
from catalog.auth.principal import Principal
from catalog.store import tables as t


@strawberry.type(description="The principal this request acts as.")
class Viewer:
    name: str = strawberry.field(
        description="As the catalog records it: `token:<name>`, `oidc:<subject>` or `anonymous`."
    )
    authenticated: bool
    scopes: list[Scope]
    auth_required: bool = strawberry.field(
        description="Whether the server refuses requests without a token."
    )

    @classmethod
    def of(cls, principal: Principal, auth_required: bool) -> Viewer:
        return cls(
            name=principal.name,
            authenticated=principal.authenticated,
            scopes=[s for s in Scope if s in principal.scopes],  # in the enum's order
            auth_required=auth_required,
        )


@strawberry.type(description="An API token; the token itself is shown only when created.")
class ApiToken:
    name: str
    scopes: list[Scope]
    created_at: datetime
    created_by: str
    expires_at: datetime | None
    last_used_at: datetime | None = strawberry.field(description="Recorded at most once a minute.")
    revoked_at: datetime | None
    revoked_by: str | None

    @classmethod
    def from_row(cls, row: t.ApiToken) -> ApiToken:
        return cls(
            name=row.name,
            scopes=[s for s in Scope if s.value in row.scopes],
            created_at=row.created_at,
            created_by=row.created_by,
            expires_at=row.expires_at,
            last_used_at=row.last_used_at,
            revoked_at=row.revoked_at,
            revoked_by=row.revoked_by,
        )


@strawberry.type
class CreatedToken:
    token: str = strawberry.field(
        description="Send as `Authorization: Bearer <token>`. Shown this once: only a salted "
        "hash is kept."
    )
    api_token: ApiToken


@strawberry.type(description="A change someone made: a token created or revoked, a mutation.")
class AuditEvent:
    id: strawberry.ID
    at: datetime
    principal: str
    action: str = strawberry.field(
        description="`token.create`, `token.revoke`, `asset.link`, `asset.unlink`."
    )
    target: str | None
    detail: JSON

    @classmethod
    def from_row(cls, row: t.AuditEvent) -> AuditEvent:
        return cls(
            id=strawberry.ID(str(row.id)),
            at=row.at,
            principal=row.principal,
            action=row.action,
            target=row.target,
            detail=JSON(row.detail),
        )
