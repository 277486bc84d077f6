"""Assets, their names, links, events and check results, as GraphQL types (see
:mod:`api.schema.runs` for how they resolve)."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from api.schema.connection import Connection, connection, later
from api.schema.context import Info
from api.schema.enums import AssetEventKind
from api.schema.rows import After, First, facets, found, labels, row_pk
from api.schema.runs import Run, TaskRun
from api.schema.sources import Source, known_source, load_source
from catalog.pagination import DEFAULT_PAGE, PageRequest
from catalog.service import is_stale
from catalog.store import tables as t


@strawberry.type(description="How fresh an asset must be, and how fresh it is.")
class Freshness:
    row: strawberry.Private[t.Asset]
    max_age_seconds: float | None = strawberry.field(
        description="Null: no freshness policy. With `cron`: how long before each deadline "
        "the asset must have been produced."
    )
    cron: str | None = strawberry.field(
        description="Deadlines (a cron expression read in `timezone`), when the policy has them."
    )
    timezone: str | None = strawberry.field(description="The deadlines' IANA time zone.")
    last_produced_at: datetime | None
    stale_after: datetime | None = strawberry.field(
        description="When the asset turns stale unless produced again; null if never produced."
    )

    @strawberry.field(description="Past its policy now (never produced counts as stale).")
    def is_stale(self, info: Info) -> bool:
        return is_stale(self.row, info.context.now)


@strawberry.type(description="The name a source gives an asset (Dagster key, Prefect key...).")
class AssetAlias:
    source_pk: strawberry.Private[int]
    alias: str
    reason: str | None = strawberry.field(
        description="Why this name is not the asset's identity: `canonical spelling`, "
        "`rule <name>` (an [[identity.rules]] entry), `alias` ([identity.aliases]), "
        "`asset rule <prefix> → <namespace>` (a Dagster source's asset_rules); null: the "
        "source's own name for it."
    )

    @strawberry.field
    def source(self, info: Info) -> Source:
        return known_source(info, self.source_pk)


@strawberry.type(description="What one source calls an asset, and why that name is this asset.")
class AssetName:
    source_pk: strawberry.Private[int]
    name: str
    reason: str = strawberry.field(
        description="`same canonical identity` (the source wrote this very identity), "
        "`canonical spelling`, `rule <name>`, `alias`, `asset rule <prefix> → <namespace>`, or "
        "`the source's own name for it`. Links by hand are in `Asset.links`."
    )

    @strawberry.field
    async def source(self, info: Info) -> Source:
        return await load_source(info, self.source_pk)


@strawberry.type(description="Another asset this one was linked to as the same dataset.")
class AssetLink:
    other_pk: strawberry.Private[int]
    reason: str = strawberry.field(
        description="`manual`: linked by hand; `symlink`: a source declared the one a symlink "
        "of the other after naming it on its own."
    )
    linked_by: str
    linked_at: datetime
    note: str | None

    @classmethod
    def from_row(cls, row: t.AssetLink, seen_from: int) -> AssetLink:
        other = row.other_id if row.asset_id == seen_from else row.asset_id
        return cls(
            other_pk=other,
            reason=row.reason,
            linked_by=row.linked_by,
            linked_at=row.linked_at,
            note=row.note,
        )

    @strawberry.field
    async def other(self, info: Info) -> Asset:
        return await load_asset(info, self.other_pk)


@strawberry.type(description="A dataset, table or file, the same one whichever tool touches it.")
class Asset:
    pk: strawberry.Private[int]
    id: strawberry.ID
    uri: str = strawberry.field(description="Canonical identity: OpenLineage namespace + name.")
    kind: str | None
    description: str | None
    freshness: Freshness
    metadata: JSON
    facets: JSON | None = strawberry.field(
        description="OpenLineage dataset facets of the asset, custom ones included."
    )

    @classmethod
    def from_row(cls, row: t.Asset) -> Asset:
        pk = row_pk(row)
        freshness = Freshness(
            row=row,
            max_age_seconds=row.freshness_max_age_s,
            cron=row.freshness_cron,
            timezone=(row.freshness_timezone or "UTC") if row.freshness_cron else None,
            last_produced_at=row.last_produced_at,
            stale_after=row.stale_after,
        )
        return cls(
            pk=pk,
            id=strawberry.ID(str(pk)),
            uri=row.uri,
            kind=row.kind,
            description=row.description,
            freshness=freshness,
            metadata=JSON(row.meta),
            facets=facets(row.meta),
        )

    @strawberry.field(
        description="Which columns of which assets each column of this one is derived from."
    )
    async def column_lineage(self, info: Info, column: str | None = None) -> list[ColumnLineage]:
        rows = await info.context.loaders.column_lineage_of_asset.load(self.pk)
        return [
            ColumnLineage.from_row(r) for r in rows if column is None or r.output_column == column
        ]

    @strawberry.field
    def owners(self, info: Info) -> list[str]:
        return labels(info, "owners", ("asset", self.pk))

    @strawberry.field
    def tags(self, info: Info) -> list[str]:
        return labels(info, "tags", ("asset", self.pk))

    @strawberry.field
    def aliases(self, info: Info) -> list[AssetAlias]:
        rows = info.context.known.aliases.get(self.pk)
        if rows is None:
            return later(self._load_aliases(info))
        return [AssetAlias(source_pk=r.source_id, alias=r.alias, reason=r.reason) for r in rows]

    async def _load_aliases(self, info: Info) -> list[AssetAlias]:
        rows = await info.context.loaders.aliases_of_asset.load(self.pk)
        return [AssetAlias(source_pk=r.source_id, alias=r.alias, reason=r.reason) for r in rows]

    @strawberry.field(
        description="Every source that knows this asset, what it calls it and why that is "
        "this asset."
    )
    async def named_by(self, info: Info) -> list[AssetName]:
        found = await info.context.loaders.names_of_asset.load(self.pk)
        return [AssetName(source_pk=n.source_id, name=n.name, reason=n.reason) for n in found]

    @strawberry.field(description="Assets linked by hand as the same dataset: who, when, why.")
    async def links(self, info: Info) -> list[AssetLink]:
        rows = await info.context.loaders.links_of_asset.load(self.pk)
        return [AssetLink.from_row(r, self.pk) for r in rows]

    @strawberry.field(description="Produced, consumed and observed events, newest first.")
    async def events(
        self, info: Info, first: First = DEFAULT_PAGE, after: After = None
    ) -> Connection[AssetEvent]:
        loaders = info.context.loaders
        page = await loaders.events_of_asset(PageRequest(first, after)).load(self.pk)
        return connection(
            page, AssetEvent.from_row, lambda: loaders.event_count_of_asset.load(self.pk)
        )

    @strawberry.field(description="Data quality check results, newest first.")
    async def checks(
        self, info: Info, first: First = DEFAULT_PAGE, after: After = None
    ) -> Connection[CheckResult]:
        loaders = info.context.loaders
        page = await loaders.checks_of_asset(PageRequest(first, after)).load(self.pk)
        return connection(
            page, CheckResult.from_row, lambda: loaders.check_count_of_asset.load(self.pk)
        )


async def load_asset(info: Info, asset_id: int) -> Asset:
    row = await info.context.loaders.asset.load(asset_id)
    return Asset.from_row(found(row, "asset", asset_id))


# An asset event's and a check result's relations: both are rows about an asset, from a
# source, maybe written by a run.


async def _asset_of(root: AssetEvent | CheckResult, info: Info) -> Asset:
    return await load_asset(info, root.asset_pk)


async def _source_of(root: AssetEvent | CheckResult, info: Info) -> Source:
    return await load_source(info, root.source_pk)


async def _run_of(root: AssetEvent | CheckResult, info: Info) -> Run | None:
    if root.run_pk is None:
        return None
    row = await info.context.loaders.run.load(root.run_pk)
    return None if row is None else Run.from_row(row)


@strawberry.type(description="One column derived from one column of an input asset.")
class ColumnLineage:
    input_pk: strawberry.Private[int]
    source_pk: strawberry.Private[int]
    column: str = strawberry.field(description="The column of the asset asked about.")
    input_column: str
    transformations: JSON = strawberry.field(
        description="OpenLineage transformations: type, subtype, description, masking."
    )
    first_seen: datetime
    last_seen: datetime

    @classmethod
    def from_row(cls, row: t.ColumnLineage) -> ColumnLineage:
        return cls(
            input_pk=row.input_asset_id,
            source_pk=row.source_id,
            column=row.output_column,
            input_column=row.input_column,
            transformations=JSON(row.transformations),
            first_seen=row.first_seen,
            last_seen=row.last_seen,
        )

    @strawberry.field
    async def input_asset(self, info: Info) -> Asset:
        row = await info.context.loaders.asset.load(self.input_pk)
        return Asset.from_row(found(row, "asset", self.input_pk))

    @strawberry.field
    async def source(self, info: Info) -> Source:
        return await load_source(info, self.source_pk)


@strawberry.type(description="An asset produced, consumed or observed at a moment, by a run.")
class AssetEvent:
    pk: strawberry.Private[int]
    asset_pk: strawberry.Private[int]
    source_pk: strawberry.Private[int]
    run_pk: strawberry.Private[int | None]
    task_run_pk: strawberry.Private[int | None]
    id: strawberry.ID
    kind: AssetEventKind
    at: datetime
    row_count: int | None
    metadata: JSON

    @classmethod
    def from_row(cls, row: t.AssetEvent) -> AssetEvent:
        pk = row_pk(row)
        return cls(
            pk=pk,
            asset_pk=row.asset_id,
            source_pk=row.source_id,
            run_pk=row.run_id,
            task_run_pk=row.task_run_id,
            id=strawberry.ID(str(pk)),
            kind=AssetEventKind(row.kind),
            at=row.at,
            row_count=row.row_count,
            metadata=JSON(row.meta),
        )

    asset: Asset = strawberry.field(resolver=_asset_of)
    source: Source = strawberry.field(resolver=_source_of)
    run: Run | None = strawberry.field(resolver=_run_of)

    @strawberry.field
    async def task_run(self, info: Info) -> TaskRun | None:
        if self.task_run_pk is None:
            return None
        row = await info.context.loaders.task_run.load(self.task_run_pk)
        return None if row is None else TaskRun.from_row(row)


@strawberry.type(description="The outcome of one data quality check on an asset.")
class CheckResult:
    pk: strawberry.Private[int]
    asset_pk: strawberry.Private[int]
    source_pk: strawberry.Private[int]
    run_pk: strawberry.Private[int | None]
    id: strawberry.ID
    name: str
    passed: bool
    severity: str | None
    at: datetime
    metadata: JSON

    @classmethod
    def from_row(cls, row: t.CheckResult) -> CheckResult:
        pk = row_pk(row)
        return cls(
            pk=pk,
            asset_pk=row.asset_id,
            source_pk=row.source_id,
            run_pk=row.run_id,
            id=strawberry.ID(str(pk)),
            name=row.check_name,
            passed=row.passed,
            severity=row.severity,
            at=row.at,
            metadata=JSON(row.meta),
        )

    asset: Asset = strawberry.field(resolver=_asset_of)
    source: Source = strawberry.field(resolver=_source_of)
    run: Run | None = strawberry.field(resolver=_run_of)
