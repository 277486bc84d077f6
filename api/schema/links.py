"""Likely matches: assets that are probably one dataset, waiting for a person to link them."""

from __future__ import annotations

import strawberry

from api.schema.assets import Asset, load_asset
from api.schema.context import Info
from catalog import matches


@strawberry.type(description="Two assets that share a table name but not an identity.")
class LikelyMatch:
    asset_pk: strawberry.Private[int]
    other_pk: strawberry.Private[int]
    name: str = strawberry.field(description="The table or file name they share.")

    @classmethod
    def from_match(cls, m: matches.Match) -> LikelyMatch:
        return cls(asset_pk=m.asset_id, other_pk=m.other_id, name=m.name)

    @strawberry.field
    async def asset(self, info: Info) -> Asset:
        return await load_asset(info, self.asset_pk)

    @strawberry.field
    async def other(self, info: Info) -> Asset:
        return await load_asset(info, self.other_pk)
