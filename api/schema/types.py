"""The catalog's entities as GraphQL types.

Each type is built from a table row by ``from_row`` and follows relations through the request's
DataLoaders: a resolver is one loader call, never a query of its own.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

import strawberry
from strawberry.scalars import JSON

from api.schema.connection import Connection, connection, later, slice_loaded
from api.schema.context import Info
from api.schema.enums import AssetEventKind, RunStatus, SyncOutcome, SyncTrigger, TriggerKind
from catalog.pagination import DEFAULT_PAGE, PageRequest
from catalog.service import is_stale
from catalog.store import tables as t

Row = TypeVar("Row")

First = Annotated[int, strawberry.argument(description="Page size, at most 500.")]
After = Annotated[str | None, strawberry.argument(description="`endCursor` of the page before.")]


def _pk(row: Any) -> int:
    ident: int | None = row.id
    assert ident is not None, "rows read from the store always have an id"
    return ident


def _found(row: Row | None, what: str, ident: int) -> Row:
    # A foreign key guarantees the row; a miss means the database changed under us.
    if row is None:
        raise LookupError(f"{what} {ident} vanished while the request was served")
    return row


@strawberry.type
class NotFound:
    message: str


@strawberry.type(description="Where the last sync of a source stands.")
class SyncStatus:
    outcome: SyncOutcome
    started_at: datetime | None
    last_success_at: datetime | None
    last_failure_at: datetime | None
    last_error: str | None
    notices: list[str] = strawberry.field(description="Problems the source reports about itself.")
    batches: int
    records: int = strawberry.field(description="Records written by the current or last sync.")
    id: str | None = strawberry.field(
        description="The current or last sync's id: the one a push was answered with."
    )
    trigger: SyncTrigger | None = strawberry.field(
        description="What started the current or last sync."
    )
    syncs: int = strawberry.field(description="Syncs started since the source was first seen.")
    requested_id: str | None = strawberry.field(
        description="A push waiting for the next sync, which will have this id."
    )
    requested_at: datetime | None = strawberry.field(
        description="When the push waiting for the next sync came."
    )

    @classmethod
    def from_row(cls, row: t.SyncState | None) -> SyncStatus:
        if row is None:
            return cls(
                outcome=SyncOutcome.NEVER,
                started_at=None,
                last_success_at=None,
                last_failure_at=None,
                last_error=None,
                notices=[],
                batches=0,
                records=0,
                id=None,
                trigger=None,
                syncs=0,
                requested_id=None,
                requested_at=None,
            )
        return cls(
            outcome=SyncOutcome(row.outcome),
            started_at=row.started_at,
            last_success_at=row.succeeded_at,
            last_failure_at=row.failed_at,
            last_error=row.error,
            notices=list(row.notices),
            batches=row.batches,
            records=row.records,
            id=row.sync_id,
            trigger=SyncTrigger(row.trigger) if row.trigger else None,
            syncs=row.syncs,
            requested_id=row.requested_id,
            requested_at=row.requested_at,
        )


@strawberry.type(description="An orchestrator the catalog reads: an Airflow, a Prefect, ...")
class Source:
    pk: strawberry.Private[int]
    id: strawberry.ID
    name: str
    kind: str
    base_url: str | None
    settings: JSON = strawberry.field(description="Never secrets: only their variables' names.")

    @classmethod
    def from_row(cls, row: t.Source) -> Source:
        pk = _pk(row)
        return cls(
            pk=pk,
            id=strawberry.ID(str(pk)),
            name=row.name,
            kind=row.kind,
            base_url=row.base_url,
            settings=JSON(row.settings),
        )

    @strawberry.field
    async def sync(self, info: Info) -> SyncStatus:
        info.context.read_sync_state = True
        return SyncStatus.from_row(await info.context.loaders.sync_state.load(self.pk))


async def load_source(info: Info, source_id: int) -> Source:
    row = await info.context.loaders.source.load(source_id)
    return Source.from_row(_found(row, "source", source_id))


# Relations a list resolver may have read with its page (Context.known): the field resolves
# synchronously from there, or through its DataLoader when the parent did not read it.


def known_source(info: Info, source_id: int) -> Source:
    row = info.context.known.sources.get(source_id)
    return Source.from_row(row) if row else later(load_source(info, source_id))


def _labels(info: Info, which: Literal["owners", "tags"], key: tuple[str, int]) -> list[str]:
    known = info.context.known
    found = (known.owners if which == "owners" else known.tags).get(key)
    if found is not None:
        return found
    loaders = info.context.loaders
    return later((loaders.owners if which == "owners" else loaders.tags).load(key))


@strawberry.type(description="A DAG, a flow (or deployment), a Dagster job.")
class Pipeline:
    pk: strawberry.Private[int]
    source_pk: strawberry.Private[int]
    id: strawberry.ID
    external_id: str
    name: str
    description: str | None
    schedule: str | None = strawberry.field(
        description="The schedule as the tool states it (a cron, an interval, an Airflow "
        "timetable's summary such as `Asset`), whether or not it is on: see `scheduleActive`."
    )
    schedule_active: bool | None = strawberry.field(
        description="Whether `schedule` makes runs now: false when the schedule is stopped "
        "(a Dagster schedule STOPPED, a Prefect schedule inactive) or the pipeline is paused "
        "(an Airflow DAG, a Prefect deployment); null when there is no schedule."
    )
    paused: bool | None = strawberry.field(
        description="The pipeline's own pause switch: an Airflow DAG paused, every deployment "
        "of a flow paused, every schedule and sensor of a Dagster job stopped."
    )
    ui_url: str | None
    metadata: JSON
    processing_type: str | None = strawberry.field(
        description="How its runs process data: batch, streaming or service (continuous runs "
        "with no natural end), as the tool says (OpenLineage jobType.processingType)."
    )

    @classmethod
    def from_row(cls, row: t.Pipeline) -> Pipeline:
        pk = _pk(row)
        return cls(
            pk=pk,
            source_pk=row.source_id,
            id=strawberry.ID(str(pk)),
            external_id=row.external_id,
            name=row.name,
            description=row.description,
            schedule=row.schedule,
            schedule_active=row.schedule_active,
            paused=row.paused,
            ui_url=row.ui_url,
            metadata=JSON(row.meta),
            processing_type=row.processing_type,
        )

    @strawberry.field
    def source(self, info: Info) -> Source:
        return known_source(info, self.source_pk)

    @strawberry.field
    def owners(self, info: Info) -> list[str]:
        return _labels(info, "owners", ("pipeline", self.pk))

    @strawberry.field
    async def tags(self, info: Info) -> list[str]:
        return await info.context.loaders.tags.load(("pipeline", self.pk))

    @strawberry.field
    async def tasks(self, info: Info) -> list[Task]:
        return [
            Task.from_row(r) for r in await info.context.loaders.tasks_of_pipeline.load(self.pk)
        ]

    @strawberry.field(description="Runs of this pipeline, newest first.")
    async def runs(
        self, info: Info, first: First = DEFAULT_PAGE, after: After = None
    ) -> Connection[Run]:
        loaders = info.context.loaders
        page = await loaders.runs_of_pipeline(PageRequest(first, after)).load(self.pk)
        return connection(page, Run.from_row, lambda: loaders.run_count_of_pipeline.load(self.pk))


@strawberry.type(description="A task of a pipeline: an Airflow task, a Prefect task, an op.")
class Task:
    pk: strawberry.Private[int]
    pipeline_pk: strawberry.Private[int]
    id: strawberry.ID
    external_id: str
    name: str
    kind: str | None
    ui_url: str | None
    metadata: JSON

    @classmethod
    def from_row(cls, row: t.Task) -> Task:
        pk = _pk(row)
        return cls(
            pk=pk,
            pipeline_pk=row.pipeline_id,
            id=strawberry.ID(str(pk)),
            external_id=row.external_id,
            name=row.name,
            kind=row.kind,
            ui_url=row.ui_url,
            metadata=JSON(row.meta),
        )

    @strawberry.field
    async def pipeline(self, info: Info) -> Pipeline:
        return await load_pipeline(info, self.pipeline_pk)


async def load_pipeline(info: Info, pipeline_id: int) -> Pipeline:
    row = await info.context.loaders.pipeline.load(pipeline_id)
    return Pipeline.from_row(_found(row, "pipeline", pipeline_id))


async def load_task(info: Info, task_id: int) -> Task:
    row = await info.context.loaders.task.load(task_id)
    return Task.from_row(_found(row, "task", task_id))


@strawberry.type(description="One run of a pipeline, in whichever tool ran it.")
class Run:
    pk: strawberry.Private[int]
    source_pk: strawberry.Private[int]
    pipeline_pk: strawberry.Private[int]
    parent_pk: strawberry.Private[int | None]
    id: strawberry.ID
    external_id: str
    status: RunStatus
    raw_status: str | None = strawberry.field(description="The status as the tool spelled it.")
    trigger: TriggerKind
    logical_date: datetime | None
    queued_at: datetime | None
    started_at: datetime | None
    ended_at: datetime | None
    duration_seconds: float | None
    error: str | None
    ui_url: str | None
    metadata: JSON
    facets: JSON | None = strawberry.field(
        description="OpenLineage run and job facets of a pushed run, custom ones included."
    )

    @classmethod
    def from_row(cls, row: t.Run) -> Run:
        pk = _pk(row)
        return cls(
            pk=pk,
            source_pk=row.source_id,
            pipeline_pk=row.pipeline_id,
            parent_pk=row.parent_run_id,
            id=strawberry.ID(str(pk)),
            external_id=row.external_id,
            status=RunStatus(row.status),
            raw_status=row.raw_status,
            trigger=TriggerKind(row.trigger),
            logical_date=row.logical_date,
            queued_at=row.queued_at,
            started_at=row.started_at,
            ended_at=row.ended_at,
            duration_seconds=row.duration_s,
            error=row.error,
            ui_url=row.ui_url,
            metadata=JSON(row.meta),
            facets=_facets(row.meta),
        )

    @strawberry.field
    def pipeline(self, info: Info) -> Pipeline:
        row = info.context.known.pipelines.get(self.pipeline_pk)
        return Pipeline.from_row(row) if row else later(load_pipeline(info, self.pipeline_pk))

    @strawberry.field
    def source(self, info: Info) -> Source:
        return known_source(info, self.source_pk)

    @strawberry.field(
        description="Who owns the run: owners the run itself names (a Dagster run's owner "
        "tags), then its pipeline's owners."
    )
    def owners(self, info: Info) -> list[str]:
        known = info.context.known.owners
        own, of_pipeline = known.get(("run", self.pk)), known.get(("pipeline", self.pipeline_pk))
        if own is not None and of_pipeline is not None:  # read with the page of runs
            return list(dict.fromkeys([*own, *of_pipeline]))
        return later(self._load_owners(info))

    async def _load_owners(self, info: Info) -> list[str]:
        own, of_pipeline = await info.context.loaders.owners.load_many(
            [("run", self.pk), ("pipeline", self.pipeline_pk)]
        )
        return list(dict.fromkeys([*own, *of_pipeline]))

    @strawberry.field
    async def tags(self, info: Info) -> list[str]:
        return await info.context.loaders.tags.load(("run", self.pk))

    @strawberry.field
    async def parent_run(self, info: Info) -> Run | None:
        if self.parent_pk is None:
            return None
        row = await info.context.loaders.run.load(self.parent_pk)
        return None if row is None else Run.from_row(row)

    @strawberry.field(description="Task runs by start time; every attempt is its own task run.")
    async def task_runs(
        self, info: Info, first: First = DEFAULT_PAGE, after: After = None
    ) -> Connection[TaskRun]:
        rows = await info.context.loaders.task_runs_of_run.load(self.pk)

        async def count() -> int:
            return len(rows)

        return connection(slice_loaded(rows, PageRequest(first, after)), TaskRun.from_row, count)

    @strawberry.field(description="What this run produced, consumed or observed.")
    async def asset_events(self, info: Info) -> list[AssetEvent]:
        return [
            AssetEvent.from_row(r) for r in await info.context.loaders.events_of_run.load(self.pk)
        ]


@strawberry.type(description="One attempt of one task (one map index) within a run.")
class TaskRun:
    pk: strawberry.Private[int]
    run_pk: strawberry.Private[int]
    task_pk: strawberry.Private[int]
    id: strawberry.ID
    attempt: int
    map_index: int = strawberry.field(description="-1 unless the task is mapped.")
    external_id: str | None = strawberry.field(
        description="The tool's own id of this execution, when it has one (an OpenLineage runId)."
    )
    status: RunStatus
    raw_status: str | None
    queued_at: datetime | None
    started_at: datetime | None
    ended_at: datetime | None
    duration_seconds: float | None
    error: str | None
    log_url: str | None
    metadata: JSON

    @classmethod
    def from_row(cls, row: t.TaskRun) -> TaskRun:
        pk = _pk(row)
        return cls(
            pk=pk,
            run_pk=row.run_id,
            task_pk=row.task_id,
            id=strawberry.ID(str(pk)),
            attempt=row.attempt,
            map_index=row.map_index,
            external_id=row.external_id or None,
            status=RunStatus(row.status),
            raw_status=row.raw_status,
            queued_at=row.queued_at,
            started_at=row.started_at,
            ended_at=row.ended_at,
            duration_seconds=row.duration_s,
            error=row.error,
            log_url=row.log_url,
            metadata=JSON(row.meta),
        )

    @strawberry.field
    async def task(self, info: Info) -> Task:
        return await load_task(info, self.task_pk)

    @strawberry.field
    async def run(self, info: Info) -> Run:
        row = await info.context.loaders.run.load(self.run_pk)
        return Run.from_row(_found(row, "run", self.run_pk))


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
        pk = _pk(row)
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
            facets=_facets(row.meta),
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
        return _labels(info, "owners", ("asset", self.pk))

    @strawberry.field
    def tags(self, info: Info) -> list[str]:
        return _labels(info, "tags", ("asset", self.pk))

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
    return Asset.from_row(_found(row, "asset", asset_id))


async def _run_or_none(info: Info, run_id: int | None) -> Run | None:
    if run_id is None:
        return None
    row = await info.context.loaders.run.load(run_id)
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
        return Asset.from_row(_found(row, "asset", self.input_pk))

    @strawberry.field
    async def source(self, info: Info) -> Source:
        return await load_source(info, self.source_pk)


def _facets(meta: dict[str, Any]) -> JSON | None:
    found = meta.get("openlineage")
    return JSON(found) if isinstance(found, dict) else None


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
        pk = _pk(row)
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

    @strawberry.field
    async def asset(self, info: Info) -> Asset:
        return await load_asset(info, self.asset_pk)

    @strawberry.field
    async def source(self, info: Info) -> Source:
        return await load_source(info, self.source_pk)

    @strawberry.field
    async def run(self, info: Info) -> Run | None:
        return await _run_or_none(info, self.run_pk)

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
        pk = _pk(row)
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

    @strawberry.field
    async def asset(self, info: Info) -> Asset:
        return await load_asset(info, self.asset_pk)

    @strawberry.field
    async def source(self, info: Info) -> Source:
        return await load_source(info, self.source_pk)

    @strawberry.field
    async def run(self, info: Info) -> Run | None:
        return await _run_or_none(info, self.run_pk)
