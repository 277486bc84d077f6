"""Dagster's run and step statuses in the catalog's vocabulary, every one explicitly.

A step that never started has no status in Dagster at all (it is missing from the run's step
stats); :func:`missing_step_status` says what it is from the run's own status.
"""

from __future__ import annotations

from catalog.enums import RunStatus

RUN_STATUSES: dict[str, RunStatus] = {
    "QUEUED": RunStatus.QUEUED,  # waiting in the run queue for the coordinator
    "NOT_STARTED": RunStatus.QUEUED,  # created, not launched yet
    "STARTING": RunStatus.QUEUED,  # launched, its run worker not up yet
    "STARTED": RunStatus.RUNNING,
    "SUSPENDED": RunStatus.WAITING,  # stopped part-way, to be resumed
    "MANAGED": RunStatus.UNKNOWN,  # run by something outside Dagster, which owns its status
    "SUCCESS": RunStatus.SUCCESS,
    "FAILURE": RunStatus.FAILED,
    # Being cancelled: nothing more will run; the catalog does not wait for the last word.
    "CANCELING": RunStatus.CANCELLED,
    "CANCELED": RunStatus.CANCELLED,
}

STEP_STATUSES: dict[str, RunStatus] = {
    "IN_PROGRESS": RunStatus.RUNNING,
    "SUCCESS": RunStatus.SUCCESS,
    "FAILURE": RunStatus.FAILED,
    "SKIPPED": RunStatus.SKIPPED,  # an optional input was never produced
}


def run_status(status: str | None) -> RunStatus:
    return RUN_STATUSES.get(status or "", RunStatus.UNKNOWN)


def step_status(status: str | None, run: RunStatus) -> RunStatus:
    """A step's status; one still in progress in a run that is over was cut off with it."""
    found = STEP_STATUSES.get(status or "", RunStatus.UNKNOWN)
    if found is RunStatus.RUNNING and run.is_done():
        return RunStatus.CANCELLED if run is RunStatus.CANCELLED else RunStatus.FAILED
    return found


def missing_step_status(run: RunStatus) -> RunStatus:
    """A step of the plan with no stats: it will run while the run goes on, else it never did."""
    if run.is_done():
        return RunStatus.NOT_RUN
    return RunStatus.QUEUED
