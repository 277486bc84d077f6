"""Sources (the orchestrators the catalog reads) and where their syncs stand, as GraphQL types."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from api.schema.connection import later
from api.schema.context import Info
from api.schema.enums import SyncOutcome, SyncTrigger
from api.schema.rows import found, row_pk
from catalog.store import tables as t


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
        pk = row_pk(row)
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
    return Source.from_row(found(row, "source", source_id))


# Relations a list resolver may have read with its page (Context.known): the field resolves
# synchronously from there, or through its DataLoader when the parent did not read it.


def known_source(info: Info, source_id: int) -> Source:
    row = info.context.known.sources.get(source_id)
    return Source.from_row(row) if row else later(load_source(info, source_id))
