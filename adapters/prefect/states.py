"""Prefect's states in the catalog's vocabulary: every state type and common name, explicitly.

A Prefect state has a type (the closed set the engine reasons with) and a name (what people
see: ``Late`` is a SCHEDULED state, ``Crashed`` is its own type, ``Retrying`` is RUNNING). The
name says more, so it is mapped first; an unknown name falls back to its type.
"""

from __future__ import annotations

from catalog.enums import RunStatus

STATE_TYPES: dict[str, RunStatus] = {
    "SCHEDULED": RunStatus.SCHEDULED,
    "PENDING": RunStatus.QUEUED,
    "RUNNING": RunStatus.RUNNING,
    "COMPLETED": RunStatus.SUCCESS,
    "FAILED": RunStatus.FAILED,
    "CANCELLED": RunStatus.CANCELLED,
    "CRASHED": RunStatus.FAILED,  # the infrastructure died: a failure all the same
    "PAUSED": RunStatus.WAITING,
    # Being cancelled: nothing more will run; the catalog does not wait for the last word.
    "CANCELLING": RunStatus.CANCELLED,
}

STATE_NAMES: dict[str, RunStatus] = {
    "Completed": RunStatus.SUCCESS,
    "Cached": RunStatus.SUCCESS,  # COMPLETED from a cached result
    "RolledBack": RunStatus.CANCELLED,  # a transaction undid the task's work
    "Failed": RunStatus.FAILED,
    "TimedOut": RunStatus.FAILED,
    "Crashed": RunStatus.FAILED,
    "Cancelled": RunStatus.CANCELLED,
    "Cancelling": RunStatus.CANCELLED,
    "Pending": RunStatus.QUEUED,
    "Running": RunStatus.RUNNING,
    "Scheduled": RunStatus.SCHEDULED,
    # Due but not started (no worker picked it up): queued, not merely planned.
    "Late": RunStatus.QUEUED,
    "AwaitingConcurrencySlot": RunStatus.QUEUED,
    "AwaitingRetry": RunStatus.RETRYING,
    "Retrying": RunStatus.RETRYING,
    "Paused": RunStatus.WAITING,
    "Suspended": RunStatus.WAITING,
}


def status(state_type: str | None, state_name: str | None) -> RunStatus:
    if state_name in STATE_NAMES:
        return STATE_NAMES[state_name]
    return STATE_TYPES.get(state_type or "", RunStatus.UNKNOWN)
