"""The lineage graph and a run's impact, as GraphQL types."""

from __future__ import annotations

from typing import Annotated

import strawberry

from api.schema.assets import Asset, load_asset
from api.schema.context import Info
from api.schema.enums import EdgeOrigin, NodeKind
from api.schema.runs import Pipeline, Run, Task, load_pipeline, load_task
from catalog import lineage, service

LineageEntity = Annotated[Asset | Pipeline | Task, strawberry.union("LineageEntity")]


async def _source_names(info: Info, source_ids: list[int], *, kinds: bool = False) -> list[str]:
    rows = await info.context.loaders.source.load_many(source_ids)
    return sorted({(row.kind if kinds else row.name) for row in rows if row is not None})


@strawberry.type(description="An asset, pipeline or task reached by a lineage walk.")
class LineageNode:
    pk: strawberry.Private[int]
    id: strawberry.ID = strawberry.field(description="`kind:catalog id`, unique in a graph.")
    kind: NodeKind
    depth: int = strawberry.field(description="Hops from the nearest start node (0: a start).")

    @classmethod
    def from_node(cls, node: lineage.LineageNode) -> LineageNode:
        return cls(
            pk=node.id, id=strawberry.ID(f"{node.kind}:{node.id}"), kind=node.kind, depth=node.depth
        )

    @strawberry.field
    async def entity(self, info: Info) -> LineageEntity:
        if self.kind is NodeKind.ASSET:
            return await load_asset(info, self.pk)
        if self.kind is NodeKind.PIPELINE:
            return await load_pipeline(info, self.pk)
        return await load_task(info, self.pk)

    @strawberry.field(description="Names of the sources that know this node.")
    async def sources(self, info: Info) -> list[str]:
        return await _source_names(info, await self._source_ids(info))

    @strawberry.field(
        description="The tools those sources are (airflow, prefect, dagster, openlineage …)."
    )
    async def tools(self, info: Info) -> list[str]:
        return await _source_names(info, await self._source_ids(info), kinds=True)

    async def _source_ids(self, info: Info) -> list[int]:
        loaders = info.context.loaders
        if self.kind is NodeKind.ASSET:
            return await loaders.sources_of_asset.load(self.pk)
        pipeline_id = self.pk
        if self.kind is NodeKind.TASK:
            pipeline_id = (await load_task(info, self.pk)).pipeline_pk
        return [(await load_pipeline(info, pipeline_id)).source_pk]


@strawberry.type
class LineageEdge:
    source_pks: strawberry.Private[list[int]]
    upstream: LineageNode
    downstream: LineageNode
    origins: list[EdgeOrigin]
    linked_by: list[str] = strawberry.field(
        description="Who linked the two assets by hand, for a `LINKED` edge: the principal "
        "(`token:<name>`, `oidc:<subject>`, `cli:<user>`, `anonymous`), never a name the "
        "caller chose."
    )

    @strawberry.field(
        description="Who says this edge exists: the names of the sources that reported it, "
        "and for a `LINKED` edge the principals who linked it (as in `linkedBy`)."
    )
    async def sources(self, info: Info) -> list[str]:
        return [*await _source_names(info, self.source_pks), *self.linked_by]


@strawberry.type(description="Nodes within the depth bound of the start, and the edges among them.")
class LineageGraph:
    all_nodes: strawberry.Private[list[LineageNode]]
    edges: list[LineageEdge]
    truncated: bool = strawberry.field(
        description="More nodes were within reach than `maxNodes`: the nearest are here."
    )

    @classmethod
    def from_result(cls, result: lineage.LineageResult) -> LineageGraph:
        nodes = {(n.kind.value, n.id): LineageNode.from_node(n) for n in result.nodes}
        edges = [
            LineageEdge(
                source_pks=list(e.sources),
                upstream=nodes[e.upstream],
                downstream=nodes[e.downstream],
                origins=[EdgeOrigin(o) for o in e.origins],
                linked_by=list(e.linked_by),
            )
            for e in result.edges
        ]
        return cls(all_nodes=list(nodes.values()), edges=edges, truncated=result.truncated)

    @strawberry.field(description="Nearest first; only nodes of `kind` when given.")
    def nodes(self, kind: NodeKind | None = None) -> list[LineageNode]:
        return [n for n in self.all_nodes if kind is None or n.kind is kind]


@strawberry.type
class ImpactOutput:
    asset_pk: strawberry.Private[int]
    produced: bool = strawberry.field(
        description="False: the run's pipeline should write this asset but the run did not."
    )

    @strawberry.field
    async def asset(self, info: Info) -> Asset:
        return await load_asset(info, self.asset_pk)


@strawberry.type(description="What a run wrote or should have written, and all downstream of it.")
class Impact:
    run: Run
    outputs: list[ImpactOutput]
    downstream: LineageGraph

    @classmethod
    def from_impact(cls, impact: service.Impact) -> Impact:
        outputs = [ImpactOutput(asset_pk=i, produced=p) for i, p in impact.outputs]
        return cls(
            run=Run.from_row(impact.run),
            outputs=outputs,
            downstream=LineageGraph.from_result(impact.downstream),
        )
