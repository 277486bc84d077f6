"""The few writes the API takes: linking and unlinking assets by hand."""

from __future__ import annotations

import strawberry

from api.schema.context import Info, run_sync
from api.schema.types import AssetLink


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Say two assets are one dataset (two tools name it in ways no rule "
        "covers): lineage then crosses between them. Linking again replaces who, when, note."
    )
    async def link_assets(
        self, info: Info, uri: str, other: str, by: str, note: str | None = None
    ) -> AssetLink:
        row, seen_from = await run_sync(info.context.catalog.link_assets, uri, other, by, note)
        return AssetLink.from_row(row, seen_from)

    @strawberry.mutation(description="Undo a link; false when the two were not linked.")
    async def unlink_assets(self, info: Info, uri: str, other: str) -> bool:
        return await run_sync(info.context.catalog.unlink_assets, uri, other)
