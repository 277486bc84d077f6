"""Prefect's states in the catalog's vocabulary: every state type and common name, explicitly."""

from __future__ import annotations

import pytest
from prefect.client.schemas.objects import StateType

from adapters.prefect.states import STATE_NAMES, STATE_TYPES, status
from catalog.enums import RunStatus

# What each Prefect state type means in the catalog, written out by hand.
EXPECTED_TYPES: dict[str, RunStatus] = {
    "SCHEDULED": RunStatus.SCHEDULED,
    "PENDING": RunStatus.QUEUED,
    "RUNNING": RunStatus.RUNNING,
    "COMPLETED": RunStatus.SUCCESS,
    "FAILED": RunStatus.FAILED,
    "CANCELLED": RunStatus.CANCELLED,
    "CRASHED": RunStatus.FAILED,
    "PAUSED": RunStatus.WAITING,
    "CANCELLING": RunStatus.CANCELLED,
}

# The state names Prefect gives (prefect.states: Completed(), Late(), Retrying() …), each with
# the type Prefect gives it and what it means in the catalog.
EXPECTED_NAMES: dict[str, tuple[str, RunStatus]] = {
    "Completed": ("COMPLETED", RunStatus.SUCCESS),
    "Cached": ("COMPLETED", RunStatus.SUCCESS),
    "RolledBack": ("COMPLETED", RunStatus.CANCELLED),
    "Failed": ("FAILED", RunStatus.FAILED),
    "TimedOut": ("FAILED", RunStatus.FAILED),
    "Crashed": ("CRASHED", RunStatus.FAILED),
    "Cancelled": ("CANCELLED", RunStatus.CANCELLED),
    "Cancelling": ("CANCELLING", RunStatus.CANCELLED),
    "Pending": ("PENDING", RunStatus.QUEUED),
    "Running": ("RUNNING", RunStatus.RUNNING),
    "Retrying": ("RUNNING", RunStatus.RETRYING),
    "Scheduled": ("SCHEDULED", RunStatus.SCHEDULED),
    "Late": ("SCHEDULED", RunStatus.QUEUED),
    "AwaitingRetry": ("SCHEDULED", RunStatus.RETRYING),
    "AwaitingConcurrencySlot": ("SCHEDULED", RunStatus.QUEUED),
    "Paused": ("PAUSED", RunStatus.WAITING),
    "Suspended": ("PAUSED", RunStatus.WAITING),
}


def test_every_client_state_type_has_an_explicit_entry() -> None:
    assert {t.value for t in StateType} == set(STATE_TYPES) == set(EXPECTED_TYPES)


def test_every_common_name_has_an_explicit_entry() -> None:
    assert set(STATE_NAMES) == set(EXPECTED_NAMES)


@pytest.mark.parametrize(("state_type", "expected"), sorted(EXPECTED_TYPES.items()))
def test_state_types(state_type: str, expected: RunStatus) -> None:
    assert STATE_TYPES[state_type] is expected
    # A state with a name the catalog does not know is read by its type.
    assert status(state_type, "SomethingNew") is expected
    assert status(state_type, None) is expected


@pytest.mark.parametrize(
    ("name", "state_type", "expected"),
    sorted((name, t, s) for name, (t, s) in EXPECTED_NAMES.items()),
)
def test_state_names(name: str, state_type: str, expected: RunStatus) -> None:
    assert STATE_NAMES[name] is expected
    assert status(state_type, name) is expected


def test_the_names_prefect_gives_its_states_are_the_ones_in_the_table() -> None:
    """prefect.states builds each named state: its name and type are what the table says."""
    import prefect.states as states

    built = {
        "Completed": states.Completed(),
        "Failed": states.Failed(),
        "Crashed": states.Crashed(),
        "Cancelled": states.Cancelled(),
        "Cancelling": states.Cancelling(),
        "Pending": states.Pending(),
        "Running": states.Running(),
        "Retrying": states.Retrying(),
        "Scheduled": states.Scheduled(),
        "Late": states.Late(),
        "AwaitingRetry": states.AwaitingRetry(),
        "AwaitingConcurrencySlot": states.AwaitingConcurrencySlot(),
        "Paused": states.Paused(),
        "Suspended": states.Suspended(),
        # The engine names these itself (task_engine.py, flow_engine.py).
        "Cached": states.Completed(name="Cached"),
        "RolledBack": states.Completed(name="RolledBack"),
        "TimedOut": states.Failed(name="TimedOut"),
    }
    assert set(built) == set(EXPECTED_NAMES)
    for name, state in built.items():
        assert (state.name, state.type.value) == (name, EXPECTED_NAMES[name][0])
        assert status(state.type.value, state.name) is EXPECTED_NAMES[name][1]


@pytest.mark.parametrize(
    ("state_type", "name", "expected"),
    [
        # Late is a SCHEDULED state, but due: queued, not merely planned.
        ("SCHEDULED", "Late", RunStatus.QUEUED),
        # Retrying is a RUNNING state: the name says it is a retry.
        ("RUNNING", "Retrying", RunStatus.RETRYING),
        # A rolled back task is COMPLETED, but its work was undone: not a success.
        ("COMPLETED", "RolledBack", RunStatus.CANCELLED),
        # The name wins even when the type says otherwise.
        ("FAILED", "Completed", RunStatus.SUCCESS),
        ("COMPLETED", "Failed", RunStatus.FAILED),
    ],
)
def test_the_name_wins_over_the_type(state_type: str, name: str, expected: RunStatus) -> None:
    assert status(state_type, name) is expected
    assert STATE_TYPES[state_type] is not expected


@pytest.mark.parametrize(
    ("state_type", "name", "expected"),
    [
        ("COMPLETED", "Done", RunStatus.SUCCESS),
        ("FAILED", "failed", RunStatus.FAILED),  # names are case-sensitive: the type decides
        ("RUNNING", "", RunStatus.RUNNING),
        ("SCHEDULED", None, RunStatus.SCHEDULED),
        ("CRASHED", "InfrastructureGone", RunStatus.FAILED),
    ],
)
def test_an_unknown_name_falls_back_to_the_type(
    state_type: str, name: str | None, expected: RunStatus
) -> None:
    assert status(state_type, name) is expected


@pytest.mark.parametrize(
    ("state_type", "name"),
    [(None, None), ("", ""), ("completed", None), ("DONE", "Done"), (None, "finished")],
)
def test_unknown_type_and_name(state_type: str | None, name: str | None) -> None:
    assert status(state_type, name) is RunStatus.UNKNOWN


def test_a_known_name_without_a_type() -> None:
    assert status(None, "Completed") is RunStatus.SUCCESS
    assert status(None, "Late") is RunStatus.QUEUED


def test_the_client_enum_members_map_too() -> None:
    """StateType is a str enum: its members and their values find the same entry."""
    for t in StateType:
        assert status(t.value, None) is EXPECTED_TYPES[t.value]
        assert status(t, None) is EXPECTED_TYPES[t.value]
