"""A code location for the push tests: two jobs, and the run-status sensors of the recipe
(``examples/push/dagster``) that call Tempox when a run finishes. Loaded by Dagster's own
processes (webserver, daemon, CLI) in their venv."""

from __future__ import annotations

import sys
from pathlib import Path

import dagster as dg

sys.path.insert(0, str(Path(__file__).resolve().parents[4] / "examples" / "push" / "dagster"))

from tempox_push import tempox_sensors


@dg.op
def work() -> int:
    return 1


@dg.op
def crash() -> None:
    raise ValueError("the push test fails on purpose")


@dg.job
def push_ok_job() -> None:
    work()


@dg.job
def push_fail_job() -> None:
    crash()


defs = dg.Definitions(jobs=[push_ok_job, push_fail_job], sensors=tempox_sensors)
