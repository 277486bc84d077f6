"""The Query root: one field per question, each one call into the catalog."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, TypeVar

import strawberry

from api.schema.admin import ApiToken, AuditEvent, Viewer
from api.schema.alerts import Alert, AlertRule, AlertStatus
from api.schema.assets import Asset, AssetEvent
from api.schema.connection import Connection, connection
from api.schema.context import Info, run_sync
from api.schema.enums import Direction
from api.schema.inputs import AssetFilter, LineageNodeInput, PipelineFilter, RunFilter, parse_id
from api.schema.lineage import Impact, LineageGraph
from api.schema.links import LikelyMatch
from api.schema.lookahead import item_fields, selected
from api.schema.rows import After, First
from api.schema.runs import Pipeline, Run
from api.schema.sources import NotFound, Source
from api.schema.trends import SlowerTask
from catalog.errors import InvalidArgument
from catalog.filters import RunFilter as RunFilter_
from catalog.lineage import DEFAULT_NODES, MAX_NODES
from catalog.pagination import DEFAULT_PAGE, Page, PageRequest

Row = TypeVar("Row")
T = TypeVar("T")

MaxNodes = Annotated[
    int,
    strawberry.argument(
        description=f"The most nodes to return (at most {MAX_NODES}), nearest first."
    ),
]
RunResult = Annotated[Run | NotFound, strawberry.union("RunResult")]
AssetResult = Annotated[Asset | NotFound, strawberry.union("AssetResult")]
LineageResult = Annotated[LineageGraph | NotFound, strawberry.union("LineageResult")]
ImpactResult = Annotated[Impact | NotFound, strawberry.union("ImpactResult")]


async def _list(
    fetch: Callable[[PageRequest], Page[Row]],
    count: Callable[[], int],
    convert: Callable[[Row], T],
    first: int,
    after: str | None,
) -> Connection[T]:
    page = await run_sync(fetch, PageRequest(first, after))
    return connection(page, convert, lambda: run_sync(count))


async def _runs(info: Info, f: RunFilter_, first: int, after: str | None) -> Connection[Run]:
    """A page of runs, read with what the selection shows of each (its pipeline, the
    pipeline's owners and source) in a fixed number of statements."""
    c, page = info.context.catalog, PageRequest(first, after)
    items, pipeline = item_fields(info), item_fields(info, "pipeline")
    listed = await run_sync(
        lambda: c.listing.runs(
            f,
            page,
            count="totalCount" in selected(info),
            pipelines="pipeline" in items,
            owners="owners" in pipeline,
            sources="source" in items or "source" in pipeline,
            run_owners="owners" in items,
        )
    )
    info.context.known.add(listed.related, "pipeline")
    count = lambda: run_sync(c.count_runs, f)  # noqa: E731
    return connection(listed.page, Run.from_row, count, listed.total)


@strawberry.type
class Query:
    @strawberry.field(description="The orchestrators the catalog reads, with their sync status.")
    async def sources(
        self, info: Info, first: First = DEFAULT_PAGE, after: After = None
    ) -> Connection[Source]:
        c = info.context.catalog
        return await _list(c.sources, c.count_sources, Source.from_row, first, after)

    @strawberry.field
    async def pipelines(
        self,
        info: Info,
        filter: PipelineFilter | None = None,
        first: First = DEFAULT_PAGE,
        after: After = None,
    ) -> Connection[Pipeline]:
        c, f = info.context.catalog, (filter or PipelineFilter()).to_filter()
        return await _list(
            lambda p: c.pipelines(f, p),
            lambda: c.count_pipelines(f),
            Pipeline.from_row,
            first,
            after,
        )

    @strawberry.field(description="Runs of every source, newest first.")
    async def runs(
        self,
        info: Info,
        filter: RunFilter | None = None,
        first: First = DEFAULT_PAGE,
        after: After = None,
    ) -> Connection[Run]:
        return await _runs(info, (filter or RunFilter()).to_filter(), first, after)

    @strawberry.field(description="One run: by `id`, or by `source` name and `externalId`.")
    async def run(
        self,
        info: Info,
        id: strawberry.ID | None = None,
        source: str | None = None,
        external_id: str | None = None,
    ) -> RunResult:
        c = info.context.catalog
        if id is not None:
            row = await info.context.loaders.run.load(parse_id("id", id))
        elif source is not None and external_id is not None:
            row = await run_sync(c.run_by_external_id, source, external_id)
        else:
            raise InvalidArgument("id", "give either id, or both source and externalId")
        if row is None:
            what = id if id is not None else f"{external_id!r} in source {source!r}"
            return NotFound(message=f"no run {what}")
        return Run.from_row(row)

    @strawberry.field(description="Runs that failed in a window; by default the last 7 days.")
    async def failed_runs(
        self,
        info: Info,
        since: datetime | None = None,
        until: datetime | None = None,
        first: First = DEFAULT_PAGE,
        after: After = None,
    ) -> Connection[Run]:
        f = info.context.catalog.failed_runs_filter(since, until or info.context.now)
        return await _runs(info, f, first, after)

    @strawberry.field
    async def assets(
        self,
        info: Info,
        filter: AssetFilter | None = None,
        first: First = DEFAULT_PAGE,
        after: After = None,
    ) -> Connection[Asset]:
        c, f = info.context.catalog, (filter or AssetFilter()).to_filter()
        page, items = PageRequest(first, after), item_fields(info)
        listed = await run_sync(
            lambda: c.listing.assets(
                f,
                page,
                count="totalCount" in selected(info),
                owners="owners" in items,
                tags="tags" in items,
                aliases="aliases" in items,
            )
        )
        info.context.known.add(listed.related, "asset")
        count = lambda: run_sync(c.count_assets, f)  # noqa: E731
        return connection(listed.page, Asset.from_row, count, listed.total)

    @strawberry.field(description="One asset by its canonical URI.")
    async def asset(self, info: Info, uri: str) -> AssetResult:
        row = await run_sync(info.context.catalog.asset, uri)
        return NotFound(message=f"no asset {uri!r}") if row is None else Asset.from_row(row)

    @strawberry.field(
        description="Assets past their freshness policy at `at` (default: now), "
        "longest overdue first; never-produced ones lead."
    )
    async def stale_assets(
        self,
        info: Info,
        at: datetime | None = None,
        first: First = DEFAULT_PAGE,
        after: After = None,
    ) -> Connection[Asset]:
        c, moment = info.context.catalog, at or info.context.now
        return await _list(
            lambda p: c.stale_assets(p, moment),
            lambda: c.count_stale_assets(moment),
            Asset.from_row,
            first,
            after,
        )

    @strawberry.field(description="The lineage around a node, across tools, up to `depth` hops.")
    async def lineage(
        self,
        info: Info,
        node: LineageNodeInput,
        direction: Direction = Direction.DOWNSTREAM,
        depth: int = 5,
        as_of: Annotated[
            datetime | None,
            strawberry.argument(
                description="The graph as it stood then: edges first seen later are left out."
            ),
        ] = None,
        max_nodes: MaxNodes = DEFAULT_NODES,
    ) -> LineageResult:
        start = await node.to_node(info)
        if start is None:
            return NotFound(message=f"no {node.describe()} in the catalog")
        result = await run_sync(
            info.context.catalog.lineage, start, direction, depth, as_of, max_nodes
        )
        return LineageGraph.from_result(result)

    @strawberry.field(
        description="Assets that share a table name under two identities and are not linked: "
        "for a person to confirm with `linkAssets`."
    )
    async def likely_matches(
        self,
        info: Info,
        first: First = DEFAULT_PAGE,
        asset: Annotated[
            str | None,
            strawberry.argument(
                description="Only the matches of the asset with this URI (none if no such asset)."
            ),
        ] = None,
    ) -> list[LikelyMatch]:
        found = await run_sync(info.context.catalog.likely_matches, first, asset)
        return [LikelyMatch.from_match(m) for m in found]

    @strawberry.field(
        description="Tasks getting slower: each task's last `recent` successful attempts take "
        "`minRatio` times as long (median) as the `baseline` attempts before them. Fastest "
        "growing first; attempts started before `since` (default: 90 days ago) are not read."
    )
    async def slower_tasks(
        self,
        info: Info,
        recent: int = 5,
        baseline: int = 20,
        min_ratio: float = 1.2,
        since: datetime | None = None,
        first: First = DEFAULT_PAGE,
    ) -> list[SlowerTask]:
        found = await run_sync(
            info.context.catalog.slower_tasks, recent, baseline, min_ratio, since, first
        )
        return [SlowerTask.from_trend(tr) for tr in found]

    @strawberry.field(description="What a run produced or should have, and everything downstream.")
    async def impact(
        self,
        info: Info,
        run: strawberry.ID,
        depth: int = 10,
        max_nodes: MaxNodes = DEFAULT_NODES,
    ) -> ImpactResult:
        found = await run_sync(info.context.catalog.impact, parse_id("run", run), depth, max_nodes)
        return NotFound(message=f"no run {run}") if found is None else Impact.from_impact(found)

    @strawberry.field(description="Assets produced in [start, end), newest first.")
    async def produced_between(
        self,
        info: Info,
        start: datetime,
        end: datetime,
        first: First = DEFAULT_PAGE,
        after: After = None,
    ) -> Connection[AssetEvent]:
        c = info.context.catalog
        return await _list(
            lambda p: c.produced_between(start, end, p),
            lambda: c.count_produced_between(start, end),
            AssetEvent.from_row,
            first,
            after,
        )

    @strawberry.field(description="Who this request acts as, and what it may do.")
    def viewer(self, info: Info) -> Viewer:
        info.context.uncacheable = True
        return Viewer.of(info.context.principal, info.context.auth_required)

    @strawberry.field(description="API tokens, by name (never the tokens). Needs `admin`.")
    async def tokens(self, info: Info, include_revoked: bool = False) -> list[ApiToken]:
        tokens = info.context.tokens
        info.context.uncacheable = True  # token changes do not move the data version
        rows = await run_sync(lambda: tokens.list(include_revoked=include_revoked))
        return [ApiToken.from_row(r) for r in rows]

    @strawberry.field(
        description="Changes people and tokens made (tokens, links), newest first. Needs `admin`."
    )
    async def audit_log(
        self,
        info: Info,
        principal: str | None = None,
        action: str | None = None,
        first: First = DEFAULT_PAGE,
        after: After = None,
    ) -> Connection[AuditEvent]:
        c = info.context.catalog
        info.context.uncacheable = True
        return await _list(
            lambda p: c.audit_log(p, principal=principal, action=action),
            lambda: c.count_audit_log(principal=principal, action=action),
            AuditEvent.from_row,
            first,
            after,
        )

    @strawberry.field(description="The alert rules of the configuration (`[[alerts.rules]]`).")
    async def alert_rules(self, info: Info) -> list[AlertRule]:
        info.context.uncacheable = True  # alerts do not move the data version
        found = await run_sync(info.context.catalog.alerts.rules)
        return [AlertRule.from_state(r) for r in found]

    @strawberry.field(description="Alert history: the incidents rules opened, newest first.")
    async def alerts(
        self,
        info: Info,
        status: AlertStatus | None = None,
        rule: str | None = None,
        first: First = DEFAULT_PAGE,
        after: After = None,
    ) -> Connection[Alert]:
        history = info.context.catalog.alerts
        info.context.uncacheable = True
        state = status.value if status is not None else None

        return await _list(
            lambda p: history.alerts_with_deliveries(p, status=state, rule=rule),
            lambda: history.count_alerts(status=state, rule=rule),
            lambda pair: Alert.from_row(*pair),
            first,
            after,
        )
