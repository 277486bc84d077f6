"""Filter inputs; each converts itself into the catalog's filter, naming any bad argument."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import strawberry

from api.schema.context import Info, run_sync
from api.schema.enums import NodeKind, RunStatus, TriggerKind
from catalog import filters
from catalog.errors import InvalidArgument
from catalog.lineage import Node


def parse_id(argument: str, value: str) -> int:
    """A catalog id from a GraphQL ID; the argument's name goes into the error."""
    try:
        ident = int(value)
    except ValueError:
        ident = 0
    if ident < 1 or str(ident) != value.strip():
        raise InvalidArgument(argument, f"{value!r} is not an id this API returned")
    return ident


def _ids(argument: str, values: Sequence[str] | None) -> tuple[int, ...]:
    return tuple(parse_id(argument, v) for v in values or ())


@strawberry.input(description="Runs matching every field given; list fields match any item.")
class RunFilter:
    status: list[RunStatus] | None = None
    trigger: list[TriggerKind] | None = None
    source: list[str] | None = strawberry.field(default=None, description="Source names.")
    pipeline: list[strawberry.ID] | None = None
    owner: str | None = strawberry.field(default=None, description="Of the run or its pipeline.")
    tag: str | None = strawberry.field(default=None, description="On the run or its pipeline.")
    since: datetime | None = strawberry.field(
        default=None, description="Runs that happened (started, else queued...) at or after."
    )
    until: datetime | None = strawberry.field(default=None, description="Exclusive.")

    def to_filter(self) -> filters.RunFilter:
        return filters.RunFilter(
            statuses=tuple(self.status or ()),
            triggers=tuple(self.trigger or ()),
            sources=tuple(self.source or ()),
            pipeline_ids=_ids("filter.pipeline", self.pipeline),
            owner=self.owner,
            tag=self.tag,
            since=self.since,
            until=self.until,
        )


@strawberry.input
class PipelineFilter:
    source: list[str] | None = strawberry.field(default=None, description="Source names.")
    owner: str | None = None
    tag: str | None = None
    search: str | None = strawberry.field(
        default=None, description="Part of the name or external id, any case."
    )

    def to_filter(self) -> filters.PipelineFilter:
        return filters.PipelineFilter(
            sources=tuple(self.source or ()), owner=self.owner, tag=self.tag, search=self.search
        )


@strawberry.input
class AssetFilter:
    owner: str | None = None
    tag: str | None = None
    uri_prefix: str | None = None
    search: str | None = strawberry.field(default=None, description="Part of the URI, any case.")

    def to_filter(self) -> filters.AssetFilter:
        return filters.AssetFilter(
            owner=self.owner, tag=self.tag, uri_prefix=self.uri_prefix, search=self.search
        )


@strawberry.input(one_of=True, description="Exactly one of: an asset URI, a pipeline or a task id.")
class LineageNodeInput:
    asset: str | None = strawberry.UNSET
    pipeline: strawberry.ID | None = strawberry.UNSET
    task: strawberry.ID | None = strawberry.UNSET

    def describe(self) -> str:
        if self.pipeline:
            return f"pipeline {self.pipeline}"
        return f"task {self.task}" if self.task else f"asset {self.asset!r}"

    async def to_node(self, info: Info) -> Node | None:
        """The start node in the catalog, or None when there is no such node."""
        ctx = info.context
        if self.pipeline:
            ident = parse_id("node.pipeline", self.pipeline)
            found = await ctx.loaders.pipeline.load(ident) is not None
            return (NodeKind.PIPELINE.value, ident) if found else None
        if self.task:
            ident = parse_id("node.task", self.task)
            found = await ctx.loaders.task.load(ident) is not None
            return (NodeKind.TASK.value, ident) if found else None
        asset = await run_sync(ctx.catalog.asset, str(self.asset))
        return None if asset is None or asset.id is None else (NodeKind.ASSET.value, asset.id)
