"""One flow run for the push tests, run in the Prefect server's venv: ``push.py ok`` (completes)
or ``push.py fail`` (fails). Prints ``RUN <flow run id>``."""

from __future__ import annotations

import sys

from prefect import flow, task


@task
def step() -> int:
    return 1


@flow(name="tempox-push-ok")
def ok() -> int:
    return step()


@flow(name="tempox-push-fail")
def fail() -> None:
    raise ValueError("the push test fails on purpose")


if __name__ == "__main__":
    state = (ok if sys.argv[1] == "ok" else fail)(return_state=True)
    print("RUN", state.state_details.flow_run_id, flush=True)
