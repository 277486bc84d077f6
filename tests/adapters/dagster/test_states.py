"""Dagster's run and step statuses in the catalog's vocabulary: every one, explicitly.

The names are Dagster 1.13's GraphQL enums ``RunStatus`` and ``StepEventStatus``, written out
by hand here: the project does not depend on the dagster package.
"""

from __future__ import annotations

import pytest

from adapters.dagster.states import (
    RUN_STATUSES,
    STEP_STATUSES,
    missing_step_status,
    run_status,
    step_status,
)
from catalog.enums import RunStatus

# What each Dagster RunStatus means in the catalog, written out by hand.
EXPECTED_RUNS: dict[str, RunStatus] = {
    "QUEUED": RunStatus.QUEUED,
    "NOT_STARTED": RunStatus.QUEUED,
    "MANAGED": RunStatus.UNKNOWN,
    "STARTING": RunStatus.QUEUED,
    "STARTED": RunStatus.RUNNING,
    "SUSPENDED": RunStatus.WAITING,
    "SUCCESS": RunStatus.SUCCESS,
    "FAILURE": RunStatus.FAILED,
    "CANCELING": RunStatus.CANCELLED,
    "CANCELED": RunStatus.CANCELLED,
}

# What each Dagster StepEventStatus means, in a run that is still going.
EXPECTED_STEPS: dict[str, RunStatus] = {
    "FAILURE": RunStatus.FAILED,
    "IN_PROGRESS": RunStatus.RUNNING,
    "SKIPPED": RunStatus.SKIPPED,
    "SUCCESS": RunStatus.SUCCESS,
}

RUN_IS_ON = [RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.WAITING, RunStatus.UNKNOWN]
RUN_IS_OVER = [RunStatus.SUCCESS, RunStatus.FAILED, RunStatus.CANCELLED]


def test_every_run_status_has_an_explicit_entry() -> None:
    assert set(RUN_STATUSES) == set(EXPECTED_RUNS)


def test_every_step_status_has_an_explicit_entry() -> None:
    assert set(STEP_STATUSES) == set(EXPECTED_STEPS)


@pytest.mark.parametrize(("status", "expected"), sorted(EXPECTED_RUNS.items()))
def test_run_statuses(status: str, expected: RunStatus) -> None:
    assert RUN_STATUSES[status] is expected
    assert run_status(status) is expected


@pytest.mark.parametrize(("status", "expected"), sorted(EXPECTED_STEPS.items()))
@pytest.mark.parametrize("run", [RunStatus.RUNNING, RunStatus.QUEUED, RunStatus.WAITING])
def test_step_statuses_while_the_run_goes_on(
    status: str, expected: RunStatus, run: RunStatus
) -> None:
    assert STEP_STATUSES[status] is expected
    assert step_status(status, run) is expected


@pytest.mark.parametrize("status", [None, "", "success", "RETRYING", "CANCELLED", "FAILED"])
def test_an_unknown_run_status(status: str | None) -> None:
    """Lower case, a neighbour's spelling (CANCELLED, FAILED) or nothing at all: unknown."""
    assert run_status(status) is RunStatus.UNKNOWN


@pytest.mark.parametrize("status", [None, "", "in_progress", "UP_FOR_RETRY", "QUEUED"])
@pytest.mark.parametrize("run", [RunStatus.RUNNING, *RUN_IS_OVER])
def test_an_unknown_step_status(status: str | None, run: RunStatus) -> None:
    assert step_status(status, run) is RunStatus.UNKNOWN


@pytest.mark.parametrize(
    ("run", "expected"),
    [
        (RunStatus.FAILED, RunStatus.FAILED),  # cut off by the run's failure
        (RunStatus.CANCELLED, RunStatus.CANCELLED),  # cut off by the cancellation
        (RunStatus.SUCCESS, RunStatus.FAILED),  # never finished although the run did
    ],
)
def test_a_step_in_progress_in_a_finished_run(run: RunStatus, expected: RunStatus) -> None:
    assert step_status("IN_PROGRESS", run) is expected
    assert expected.is_done()


@pytest.mark.parametrize("status", ["SUCCESS", "FAILURE", "SKIPPED"])
@pytest.mark.parametrize("run", RUN_IS_OVER)
def test_a_finished_step_keeps_its_status_whatever_the_run(status: str, run: RunStatus) -> None:
    assert step_status(status, run) is EXPECTED_STEPS[status]


@pytest.mark.parametrize("run", RUN_IS_ON)
def test_a_missing_step_of_a_run_that_goes_on_is_queued(run: RunStatus) -> None:
    """No step stats yet: the step will run when its turn comes."""
    assert missing_step_status(run) is RunStatus.QUEUED


@pytest.mark.parametrize("run", RUN_IS_OVER)
def test_a_missing_step_of_a_finished_run_never_ran(run: RunStatus) -> None:
    assert missing_step_status(run) is RunStatus.NOT_RUN


@pytest.mark.parametrize(
    ("dagster", "expected"),
    [
        ("QUEUED", RunStatus.QUEUED),
        ("STARTING", RunStatus.QUEUED),
        ("STARTED", RunStatus.QUEUED),
        ("SUSPENDED", RunStatus.QUEUED),
        ("SUCCESS", RunStatus.NOT_RUN),
        ("FAILURE", RunStatus.NOT_RUN),
        ("CANCELING", RunStatus.NOT_RUN),  # being cancelled: nothing more will start
        ("CANCELED", RunStatus.NOT_RUN),
    ],
)
def test_a_missing_step_by_the_run_s_dagster_status(dagster: str, expected: RunStatus) -> None:
    assert missing_step_status(run_status(dagster)) is expected
