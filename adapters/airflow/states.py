"""Airflow's states and run types in the catalog's vocabulary: every value mapped explicitly."""

from __future__ import annotations

from catalog.enums import RunStatus, TriggerKind

# DagRunState (airflow/utils/state.py).
DAG_RUN_STATES: dict[str, RunStatus] = {
    "queued": RunStatus.QUEUED,
    "running": RunStatus.RUNNING,
    "success": RunStatus.SUCCESS,
    "failed": RunStatus.FAILED,
}

# TaskInstanceState, plus "none": a task instance whose state is null.
TASK_STATES: dict[str, RunStatus] = {
    "success": RunStatus.SUCCESS,
    "failed": RunStatus.FAILED,
    "upstream_failed": RunStatus.UPSTREAM_FAILED,
    "skipped": RunStatus.SKIPPED,
    "up_for_retry": RunStatus.RETRYING,
    # Handed back to the scheduler to run again later (a sensor in reschedule mode).
    "up_for_reschedule": RunStatus.WAITING,
    # Waiting on a trigger in the triggerer: started, not executing.
    "deferred": RunStatus.WAITING,
    "awaiting_input": RunStatus.WAITING,  # human-in-the-loop operators (3.1+)
    # The task is no longer in the DAG: this instance will never run.
    "removed": RunStatus.NOT_RUN,
    # Cleared while running: this try is being stopped and the task will run again.
    "restarting": RunStatus.RETRYING,
    # Airflow's "scheduled" means due and dependencies met, waiting for an executor slot: the
    # catalog's QUEUED. The catalog's SCHEDULED is "planned, not due yet", which is "none".
    "scheduled": RunStatus.QUEUED,
    "queued": RunStatus.QUEUED,
    "running": RunStatus.RUNNING,
    "none": RunStatus.SCHEDULED,
}

# DagRunType: what made the run.
RUN_TYPES: dict[str, TriggerKind] = {
    "scheduled": TriggerKind.SCHEDULED,
    "manual": TriggerKind.MANUAL,
    "backfill": TriggerKind.BACKFILL,
    "asset_triggered": TriggerKind.EVENT,
    "asset_materialization": TriggerKind.MANUAL,  # "materialize this asset" from the UI or API
    "operator_triggered": TriggerKind.EVENT,  # TriggerDagRunOperator in an upstream DAG
}


def dag_run_status(state: str | None) -> RunStatus:
    return DAG_RUN_STATES.get(state or "", RunStatus.UNKNOWN)


def task_status(state: str | None, run_done: bool) -> RunStatus:
    """A task instance's status; ``run_done``: its dag run has finished.

    A task left without a state in a finished run never ran and never will (its run failed
    before reaching it): not run, rather than scheduled.
    """
    status = TASK_STATES.get(state or "none", RunStatus.UNKNOWN)
    if run_done and status is RunStatus.SCHEDULED:
        return RunStatus.NOT_RUN
    return status


def trigger_kind(run_type: str | None) -> TriggerKind:
    return RUN_TYPES.get(run_type or "", TriggerKind.UNKNOWN)
