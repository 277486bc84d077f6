"""Pipelines, their tasks, runs and task runs, as GraphQL types.

Each type is built from a table row by ``from_row`` and follows relations through the request's
DataLoaders, or from what the list resolver read with its page: a resolver is one loader call,
never a query of its own.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.scalars import JSON

from api.schema.connection import Connection, connection, later, slice_loaded
from api.schema.context import Info
from api.schema.enums import RunStatus, TriggerKind
from api.schema.rows import After, First, facets, found, labels, row_pk
from api.schema.sources import Source, known_source
from catalog.pagination import DEFAULT_PAGE, PageRequest
from catalog.store import tables as t

if TYPE_CHECKING:
    from api.schema.assets import AssetEvent


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
        pk = row_pk(row)
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
        return labels(info, "owners", ("pipeline", self.pk))

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
        pk = row_pk(row)
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
    return Pipeline.from_row(found(row, "pipeline", pipeline_id))


async def load_task(info: Info, task_id: int) -> Task:
    row = await info.context.loaders.task.load(task_id)
    return Task.from_row(found(row, "task", task_id))


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
        pk = row_pk(row)
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
            facets=facets(row.meta),
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
    async def asset_events(
        self, info: Info
    ) -> list[Annotated[AssetEvent, strawberry.lazy("api.schema.assets")]]:
        # Imported here: an asset event's run is a Run, so the two modules refer to each other.
        from api.schema.assets import AssetEvent

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
        pk = row_pk(row)
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
        return Run.from_row(found(row, "run", self.run_pk))
