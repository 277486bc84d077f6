"""The unified schema. Migrations in ``catalog/migrations`` must reproduce exactly these tables."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Column, Index, Table, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from catalog.store.types import UTCDateTime, json_type


def _ts(*, index: bool = False, nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), index=index, nullable=nullable))


def _json() -> Any:
    return Field(default_factory=dict, sa_column=Column(json_type(), nullable=False))


class Source(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=200)
    kind: str = Field(max_length=100)
    base_url: str | None = None
    settings: dict[str, Any] = _json()  # never secrets: only the names of their variables


class SyncState(SQLModel, table=True):
    __tablename__ = "sync_state"

    source_id: int = Field(primary_key=True, foreign_key="source.id")
    cursor: dict[str, Any] | None = Field(default=None, sa_column=Column(json_type()))
    outcome: str = Field(default="never", max_length=20)
    started_at: datetime | None = _ts()
    succeeded_at: datetime | None = _ts()
    failed_at: datetime | None = _ts()
    error: str | None = None
    batches: int = 0  # committed by the current or last sync
    records: int = 0
    notices: list[str] = Field(default_factory=list, sa_column=Column(json_type(), nullable=False))
    lease_owner: str | None = Field(default=None, max_length=200)
    lease_expires_at: datetime | None = _ts()
    # The current or last sync: its id, what started it, and how many syncs began in all.
    sync_id: str | None = Field(default=None, max_length=36)
    trigger: str | None = Field(default=None, max_length=20)
    syncs: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # A push waiting for the next sync to start (whichever worker claims the lease takes it):
    # the id its callers were given, since when, and what they said changed.
    requested_id: str | None = Field(default=None, max_length=36)
    requested_at: datetime | None = _ts()
    requested_hints: list[dict[str, Any]] | None = Field(
        default=None, sa_column=Column(json_type())
    )


class Pipeline(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("source_id", "external_id"),)

    id: int | None = Field(default=None, primary_key=True)
    source_id: int = Field(foreign_key="source.id")
    external_id: str
    name: str
    description: str | None = None
    schedule: str | None = None
    # Whether ``schedule`` makes runs now: False for a stopped schedule or a paused pipeline;
    # None when there is no schedule to speak of. See PipelineRecord.
    schedule_active: bool | None = None
    paused: bool | None = None
    ui_url: str | None = None
    meta: dict[str, Any] = _json()
    processing_type: str | None = Field(default=None, max_length=20)  # batch, streaming …


class Task(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("pipeline_id", "external_id"),)

    id: int | None = Field(default=None, primary_key=True)
    pipeline_id: int = Field(foreign_key="pipeline.id")
    external_id: str
    name: str
    kind: str | None = None
    ui_url: str | None = None
    meta: dict[str, Any] = _json()


class Run(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("source_id", "external_id"),
        Index("ix_run_status_happened", "status", "happened_at"),
        Index("ix_run_pipeline_happened", "pipeline_id", "happened_at"),
        Index("ix_run_source_happened", "source_id", "happened_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    source_id: int = Field(foreign_key="source.id")
    pipeline_id: int = Field(foreign_key="pipeline.id")
    external_id: str
    status: str = Field(max_length=20)
    raw_status: str | None = None
    trigger: str = Field(default="unknown", max_length=20)
    logical_date: datetime | None = _ts()
    queued_at: datetime | None = _ts()
    started_at: datetime | None = _ts()
    ended_at: datetime | None = _ts()
    # When the run happened, for time filters and ordering: start, else queue, else logical
    # date, else end. Never NULL, so one index serves every time-window query.
    happened_at: datetime = _ts(index=True, nullable=False)
    duration_s: float | None = None
    parent_run_id: int | None = Field(default=None, foreign_key="run.id")
    error: str | None = None
    ui_url: str | None = None
    meta: dict[str, Any] = _json()
    status_at: datetime | None = _ts()  # when the status was observed; see RunRecord


class TaskRun(SQLModel, table=True):
    __tablename__ = "task_run"
    __table_args__ = (
        UniqueConstraint("run_id", "task_id", "attempt", "map_index", "external_id"),
        Index("ix_task_run_task_started", "task_id", "started_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="run.id")
    task_id: int = Field(foreign_key="task.id")
    attempt: int = 1
    map_index: int = -1
    # The tool's own id of this execution where it has one (an OpenLineage child runId): two
    # executions of one task in one run are two task runs. Empty, never NULL, so it can key.
    external_id: str = Field(default="", sa_column_kwargs={"server_default": ""})
    status: str = Field(max_length=20)
    raw_status: str | None = None
    queued_at: datetime | None = _ts()
    started_at: datetime | None = _ts()
    ended_at: datetime | None = _ts()
    duration_s: float | None = None
    error: str | None = None
    log_url: str | None = None
    meta: dict[str, Any] = _json()
    status_at: datetime | None = _ts()


class Asset(SQLModel, table=True):
    __table_args__ = (Index("ix_asset_stale_after", "stale_after"),)

    id: int | None = Field(default=None, primary_key=True)
    uri: str = Field(unique=True)
    kind: str | None = None
    description: str | None = None
    freshness_max_age_s: float | None = None
    freshness_cron: str | None = None  # deadlines; see catalog.freshness
    freshness_timezone: str | None = None
    last_produced_at: datetime | None = _ts()
    # When the asset turns stale (catalog.freshness.stale_after), kept in step on every write so
    # that "stale now" is an index range scan instead of date (and cron) arithmetic in SQL.
    stale_after: datetime | None = _ts()
    meta: dict[str, Any] = _json()


class AssetAlias(SQLModel, table=True):
    __tablename__ = "asset_alias"
    __table_args__ = (UniqueConstraint("source_id", "alias"),)

    id: int | None = Field(default=None, primary_key=True)
    asset_id: int = Field(foreign_key="asset.id", index=True)
    source_id: int = Field(foreign_key="source.id")
    alias: str
    reason: str | None = None  # why it is not the identity: "rule …", "canonical spelling" …


class AssetLink(SQLModel, table=True):
    """Two assets a person said are the same, though their identities differ (a table that two
    tools name in two ways no rule covers), or that a source declared the same (a symlink of one
    named the other, already an asset). Stored once per pair, the lower id first."""

    __tablename__ = "asset_link"
    __table_args__ = (UniqueConstraint("asset_id", "other_id", name="uq_asset_link"),)

    id: int | None = Field(default=None, primary_key=True)
    asset_id: int = Field(foreign_key="asset.id", index=True)
    other_id: int = Field(foreign_key="asset.id", index=True)
    reason: str = Field(max_length=20)  # "manual": linked by hand; "symlink": a source said so
    linked_by: str
    linked_at: datetime = _ts(nullable=False)
    note: str | None = None


class AssetEvent(SQLModel, table=True):
    __tablename__ = "asset_event"
    __table_args__ = (
        UniqueConstraint("source_id", "event_key"),
        Index("ix_asset_event_asset_at", "asset_id", "at"),
        Index("ix_asset_event_kind_at", "kind", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    source_id: int = Field(foreign_key="source.id")
    event_key: str
    asset_id: int = Field(foreign_key="asset.id")
    kind: str = Field(max_length=20)
    at: datetime = _ts(nullable=False)
    run_id: int | None = Field(default=None, foreign_key="run.id", index=True)
    task_run_id: int | None = Field(default=None, foreign_key="task_run.id")
    row_count: int | None = None
    meta: dict[str, Any] = _json()


class CheckResult(SQLModel, table=True):
    __tablename__ = "check_result"
    __table_args__ = (
        UniqueConstraint("source_id", "result_key"),
        Index("ix_check_result_asset_at", "asset_id", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    source_id: int = Field(foreign_key="source.id")
    result_key: str
    asset_id: int = Field(foreign_key="asset.id")
    check_name: str
    passed: bool
    severity: str | None = None
    at: datetime = _ts(nullable=False)
    run_id: int | None = Field(default=None, foreign_key="run.id")
    meta: dict[str, Any] = _json()


class LineageEdge(SQLModel, table=True):
    """An edge between two nodes; nodes are (kind, catalog id) of an asset, pipeline or task."""

    __tablename__ = "lineage_edge"
    __table_args__ = (
        UniqueConstraint(
            "source_id", "origin", "from_kind", "from_id", "to_kind", "to_id", name="uq_edge"
        ),
        Index("ix_edge_from", "from_kind", "from_id"),
        Index("ix_edge_to", "to_kind", "to_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    source_id: int = Field(foreign_key="source.id")
    origin: str = Field(max_length=20)
    from_kind: str = Field(max_length=10)
    from_id: int
    to_kind: str = Field(max_length=10)
    to_id: int
    first_seen: datetime = _ts(nullable=False)
    last_seen: datetime = _ts(nullable=False)


class ColumnLineage(SQLModel, table=True):
    """A column of an output asset derived from a column of an input asset, per source."""

    __tablename__ = "column_lineage"
    __table_args__ = (
        UniqueConstraint(
            "source_id",
            "output_asset_id",
            "output_column",
            "input_asset_id",
            "input_column",
            name="uq_column_lineage",
        ),
        Index("ix_column_lineage_output", "output_asset_id", "output_column"),
        Index("ix_column_lineage_input", "input_asset_id", "input_column"),
    )

    id: int | None = Field(default=None, primary_key=True)
    source_id: int = Field(foreign_key="source.id")
    output_asset_id: int = Field(foreign_key="asset.id")
    output_column: str
    input_asset_id: int = Field(foreign_key="asset.id")
    input_column: str
    transformations: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(json_type(), nullable=False)
    )
    first_seen: datetime = _ts(nullable=False)
    last_seen: datetime = _ts(nullable=False)


class Owner(SQLModel, table=True):
    """Who owns a pipeline or an asset (a person, an email, a team)."""

    __table_args__ = (
        UniqueConstraint("entity_kind", "entity_id", "name"),
        Index("ix_owner_name", "name", "entity_kind"),
    )

    id: int | None = Field(default=None, primary_key=True)
    entity_kind: str = Field(max_length=10)
    entity_id: int
    name: str


class Tag(SQLModel, table=True):
    """A label on a pipeline, run or asset: ``nightly`` or ``key=value``."""

    __table_args__ = (
        UniqueConstraint("entity_kind", "entity_id", "tag"),
        Index("ix_tag_tag", "tag", "entity_kind"),
    )

    id: int | None = Field(default=None, primary_key=True)
    entity_kind: str = Field(max_length=10)
    entity_id: int
    tag: str


class ApiToken(SQLModel, table=True):
    """An API token: only its salted hash is kept. ``key_id`` (public, inside the token) finds
    the row; the hash proves the rest. A revoked token stays, for the audit trail, and frees
    its name for a new one."""

    __tablename__ = "api_token"
    __table_args__ = (
        Index(
            "uq_api_token_active_name",
            "name",
            unique=True,
            sqlite_where=text("revoked_at IS NULL"),
            postgresql_where=text("revoked_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    key_id: str = Field(max_length=32, unique=True)
    secret_hash: str
    scopes: list[str] = Field(default_factory=list, sa_column=Column(json_type(), nullable=False))
    created_at: datetime = _ts(nullable=False)
    created_by: str
    expires_at: datetime | None = _ts()
    last_used_at: datetime | None = _ts()
    revoked_at: datetime | None = _ts()
    revoked_by: str | None = None


class AuditEvent(SQLModel, table=True):
    """Who did what to the catalog: token creation and revocation, every mutation."""

    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _ts(nullable=False, index=True)
    principal: str = Field(index=True)
    action: str = Field(max_length=50)
    target: str | None = None
    detail: dict[str, Any] = _json()


class AlertRule(SQLModel, table=True):
    """A configured alert rule as the engine has known it: rules fire for what happens after
    ``since`` (the first evaluation that saw the rule), less the rule's look-back."""

    __tablename__ = "alert_rule"

    name: str = Field(primary_key=True, max_length=200)
    kind: str = Field(max_length=20)
    since: datetime = _ts(nullable=False)


class Alert(SQLModel, table=True):
    """One incident of one rule: pending (counting towards "N in a row"), firing, resolved.
    At most one open (not resolved) alert per (rule, key)."""

    __table_args__ = (
        Index(
            "uq_alert_open_key",
            "rule",
            "key",
            unique=True,
            sqlite_where=text("status != 'resolved'"),
            postgresql_where=text("status != 'resolved'"),
        ),
        Index("ix_alert_status_started", "status", "started_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    rule: str = Field(max_length=200)
    kind: str = Field(max_length=20)
    key: str  # what the incident is about: "pipeline:12", "asset:7", "source:3" …
    status: str = Field(max_length=20)
    severity: str = Field(max_length=20)
    title: str
    count: int = 1  # occurrences in a row (failed runs, failed syncs)
    silenced: bool = False
    started_at: datetime = _ts(nullable=False)  # when the condition began
    last_event_at: datetime = _ts(nullable=False)  # the latest occurrence
    fired_at: datetime | None = _ts()
    notified_at: datetime | None = _ts()
    resolved_at: datetime | None = _ts()
    details: dict[str, Any] = _json()  # the message: error, owners, links, downstream impact


class AlertOutbox(SQLModel, table=True):
    """A notification to deliver, written in the transaction that decided it (at least once)."""

    __tablename__ = "alert_outbox"
    __table_args__ = (Index("ix_alert_outbox_due", "destination", "state", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    alert_id: int = Field(foreign_key="alert.id", index=True)
    destination: str = Field(max_length=200)
    action: str = Field(max_length=20)  # trigger | resolve
    state: str = Field(max_length=20)  # pending | sent | dropped
    payload: dict[str, Any] = _json()  # the alert as it was decided
    created_at: datetime = _ts(nullable=False)
    next_attempt_at: datetime = _ts(nullable=False)
    attempts: int = 0
    claimed_by: str | None = Field(default=None, max_length=200)
    claimed_until: datetime | None = _ts()
    sent_at: datetime | None = _ts()
    last_error: str | None = None


class AlertLease(SQLModel, table=True):
    """Who evaluates the alert rules now: one process among the replicas."""

    __tablename__ = "alert_lease"

    name: str = Field(primary_key=True, max_length=50)
    owner: str | None = Field(default=None, max_length=200)
    expires_at: datetime | None = _ts()


class LineageEvent(SQLModel, table=True):
    """An OpenLineage event as it was received, once: a delivery repeated with the same run,
    event type and event time (Marquez's identity of an event) is not stored or applied again.
    ``run_key`` is the run id, or ``job:``/``dataset:`` and the name for an event without a run."""

    __tablename__ = "lineage_event"
    __table_args__ = (
        UniqueConstraint(
            "source_id", "run_key", "event_type", "event_time", name="uq_lineage_event"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    source_id: int = Field(foreign_key="source.id")
    run_key: str
    event_type: str = Field(max_length=20)  # "" when the event has none
    event_time: datetime = _ts(nullable=False)
    received_at: datetime = _ts(nullable=False)
    payload: dict[str, Any] = _json()
    # Facets kept as sent but not read (they broke the spec), one line each.
    warnings: list[str] = Field(default_factory=list, sa_column=Column(json_type(), nullable=False))


class LineageRun(SQLModel, table=True):
    """Which catalog run an OpenLineage run id belongs to, as its first event said: later events
    may leave out the ``parent`` facet (see adapters.openlineage.run_identity)."""

    __tablename__ = "lineage_run"
    __table_args__ = (UniqueConstraint("source_id", "run_id", name="uq_lineage_run"),)

    id: int | None = Field(default=None, primary_key=True)
    source_id: int = Field(foreign_key="source.id")
    run_id: str
    identity: dict[str, Any] = _json()
    first_seen: datetime = _ts(nullable=False)


class Meta(SQLModel, table=True):
    """Counters other processes watch: ``lineage_version`` and ``data_version``."""

    key: str = Field(primary_key=True, max_length=50)
    value: int = 0


class CatalogState(SQLModel, table=True):
    """What the catalog's contents were last made to agree with: ``identity_fingerprint``, the
    digest of the ``[identity]`` rules its assets were last resolved under."""

    __tablename__ = "catalog_state"

    key: str = Field(primary_key=True, max_length=50)
    value: str
    changed_at: datetime = _ts(nullable=False)


def table(model: type[SQLModel]) -> Table:
    """The Core table of a model: its columns are typed for SQL expressions."""
    return cast("Table", model.__table__)  # type: ignore[attr-defined]
