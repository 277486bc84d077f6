"""Closed vocabularies shared by adapters, the store and the API.

Every adapter maps its tool's raw states into :class:`RunStatus` explicitly and keeps the raw
value beside it, so nothing is lost and every tool can be queried the same way.
"""

from __future__ import annotations

from enum import StrEnum


class RunStatus(StrEnum):
    """Normalised status of a run or a task run."""

    SCHEDULED = "scheduled"  # planned for the future; has not happened
    QUEUED = "queued"  # due, waiting for a worker
    RUNNING = "running"
    WAITING = "waiting"  # paused, deferred, awaiting reschedule: started but not executing
    RETRYING = "retrying"  # an attempt failed, another one is coming
    SUCCESS = "success"
    FAILED = "failed"
    UPSTREAM_FAILED = "upstream_failed"  # did not run because something it needs failed
    CANCELLED = "cancelled"
    SKIPPED = "skipped"
    NOT_RUN = "not_run"  # will never run (removed from its pipeline, step never started)
    UNKNOWN = "unknown"

    def is_done(self) -> bool:
        return self in _DONE

    def is_failure(self) -> bool:
        return self in FAILURE_STATUSES


_DONE = frozenset(
    {
        RunStatus.SUCCESS,
        RunStatus.FAILED,
        RunStatus.UPSTREAM_FAILED,
        RunStatus.CANCELLED,
        RunStatus.SKIPPED,
        RunStatus.NOT_RUN,
    }
)
FAILURE_STATUSES = frozenset({RunStatus.FAILED, RunStatus.UPSTREAM_FAILED})


class TriggerKind(StrEnum):
    """What started a run."""

    SCHEDULED = "scheduled"
    MANUAL = "manual"
    EVENT = "event"  # an asset update, a sensor, an upstream run
    BACKFILL = "backfill"
    UNKNOWN = "unknown"


class AssetEventKind(StrEnum):
    PRODUCED = "produced"  # a materialisation: the asset was written
    CONSUMED = "consumed"  # read by a run
    OBSERVED = "observed"  # seen to exist or change, without this run writing it


class NodeKind(StrEnum):
    """The kinds of node in the lineage graph."""

    ASSET = "asset"
    PIPELINE = "pipeline"
    TASK = "task"


class EdgeOrigin(StrEnum):
    DECLARED = "declared"  # the tool's definitions say so (outlets, deps, task_inputs)
    OBSERVED = "observed"  # a run was seen to read or write it
    LINKED = "linked"  # two assets a person linked as the same: lineage crosses both ways


class SyncOutcome(StrEnum):
    NEVER = "never"
    RUNNING = "running"
    OK = "ok"
    FAILED = "failed"


class SyncTrigger(StrEnum):
    """What started a sync."""

    INTERVAL = "interval"  # the background scheduler: the source's interval came round
    PUSH = "push"  # the orchestrator called POST /api/v1/sources/{name}/sync
    MANUAL = "manual"  # someone ran `tempox sync`
