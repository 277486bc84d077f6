"""Airflow's states and run types in the catalog's vocabulary: every value, explicitly."""

from __future__ import annotations

import pytest
from airflow_client.client.models.dag_run_state import DagRunState
from airflow_client.client.models.dag_run_type import DagRunType
from airflow_client.client.models.task_instance_state import TaskInstanceState

from adapters.airflow.states import (
    DAG_RUN_STATES,
    RUN_TYPES,
    TASK_STATES,
    dag_run_status,
    task_status,
    trigger_kind,
)
from catalog.enums import RunStatus, TriggerKind

# What each Airflow task instance state means in the catalog, written out by hand.
EXPECTED_TASK_STATES: dict[str, RunStatus] = {
    "success": RunStatus.SUCCESS,
    "failed": RunStatus.FAILED,
    "upstream_failed": RunStatus.UPSTREAM_FAILED,
    "skipped": RunStatus.SKIPPED,
    "up_for_retry": RunStatus.RETRYING,
    "up_for_reschedule": RunStatus.WAITING,
    "deferred": RunStatus.WAITING,
    "removed": RunStatus.NOT_RUN,
    "restarting": RunStatus.RETRYING,
    "scheduled": RunStatus.QUEUED,
    "queued": RunStatus.QUEUED,
    "running": RunStatus.RUNNING,
    "none": RunStatus.SCHEDULED,
    "awaiting_input": RunStatus.WAITING,
}

EXPECTED_DAG_RUN_STATES: dict[str, RunStatus] = {
    "queued": RunStatus.QUEUED,
    "running": RunStatus.RUNNING,
    "success": RunStatus.SUCCESS,
    "failed": RunStatus.FAILED,
}

EXPECTED_RUN_TYPES: dict[str, TriggerKind] = {
    "scheduled": TriggerKind.SCHEDULED,
    "manual": TriggerKind.MANUAL,
    "backfill": TriggerKind.BACKFILL,
    "asset_triggered": TriggerKind.EVENT,
    "asset_materialization": TriggerKind.MANUAL,
    "operator_triggered": TriggerKind.EVENT,
}


def test_every_client_task_state_has_an_explicit_entry() -> None:
    client = {s.value for s in TaskInstanceState}
    assert client | {"none"} == set(TASK_STATES)
    assert set(EXPECTED_TASK_STATES) == set(TASK_STATES)


def test_every_client_dag_run_state_has_an_explicit_entry() -> None:
    assert {s.value for s in DagRunState} == set(DAG_RUN_STATES) == set(EXPECTED_DAG_RUN_STATES)


def test_every_client_run_type_has_an_explicit_entry() -> None:
    assert {t.value for t in DagRunType} == set(RUN_TYPES) == set(EXPECTED_RUN_TYPES)


@pytest.mark.parametrize(("state", "expected"), sorted(EXPECTED_TASK_STATES.items()))
def test_task_state_in_an_unfinished_run(state: str, expected: RunStatus) -> None:
    assert TASK_STATES[state] is expected
    assert task_status(state, run_done=False) is expected


@pytest.mark.parametrize(("state", "expected"), sorted(EXPECTED_TASK_STATES.items()))
def test_task_state_in_a_finished_run(state: str, expected: RunStatus) -> None:
    # Only "planned, not due yet" changes meaning once the run is over: it never will run.
    want = RunStatus.NOT_RUN if expected is RunStatus.SCHEDULED else expected
    assert task_status(state, run_done=True) is want


def test_a_task_without_a_state() -> None:
    assert task_status(None, run_done=False) is RunStatus.SCHEDULED
    assert task_status(None, run_done=True) is RunStatus.NOT_RUN
    assert task_status("none", run_done=True) is RunStatus.NOT_RUN


@pytest.mark.parametrize("state", ["SUCCESS", "shutdown", "sensing", "up-for-retry", "null"])
def test_unknown_task_states(state: str) -> None:
    assert task_status(state, run_done=False) is RunStatus.UNKNOWN
    assert task_status(state, run_done=True) is RunStatus.UNKNOWN


@pytest.mark.parametrize(("state", "expected"), sorted(EXPECTED_DAG_RUN_STATES.items()))
def test_dag_run_states(state: str, expected: RunStatus) -> None:
    assert dag_run_status(state) is expected


@pytest.mark.parametrize("state", [None, "", "none", "Success", "skipped", "upstream_failed"])
def test_unknown_dag_run_states(state: str | None) -> None:
    assert dag_run_status(state) is RunStatus.UNKNOWN


@pytest.mark.parametrize(("run_type", "expected"), sorted(EXPECTED_RUN_TYPES.items()))
def test_run_types(run_type: str, expected: TriggerKind) -> None:
    assert trigger_kind(run_type) is expected


@pytest.mark.parametrize("run_type", [None, "", "dataset_triggered", "Manual"])
def test_unknown_run_types(run_type: str | None) -> None:
    assert trigger_kind(run_type) is TriggerKind.UNKNOWN


def test_the_client_enum_members_map_too() -> None:
    """The generated enums subclass str: a member passed as is finds its entry."""
    for state in TaskInstanceState:
        assert task_status(state, run_done=False) is EXPECTED_TASK_STATES[state.value]
    for run_state in DagRunState:
        assert dag_run_status(run_state) is EXPECTED_DAG_RUN_STATES[run_state.value]
    for run_type in DagRunType:
        assert trigger_kind(run_type) is EXPECTED_RUN_TYPES[run_type.value]
