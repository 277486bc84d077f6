"""Dagster: run-status sensors that tell Tempox the moment a run finishes.

Add the sensors to your definitions (``dg.Definitions(..., sensors=tempox_sensors)``) and set, in
the environment of the dagster-daemon (sensors run there):

- ``TEMPOX_URL``: Tempox's address, e.g. ``https://tempox.example.com``;
- ``TEMPOX_SOURCE``: the name of this Dagster in Tempox's ``[sources.<name>]``;
- ``TEMPOX_TOKEN``: an API token with the ``ingest`` scope (``tempox tokens create``).

The sensors watch every code location and start enabled. A push that fails raises, so the
sensor's tick shows the error in Dagster's UI; Tempox's interval sync catches the run later.
"""

from __future__ import annotations

import json
import os
import urllib.parse
import urllib.request

import dagster as dg

TIMEOUT_S = 10
EVERY_S = 1  # how often the daemon looks for finished runs (Dagster's default is 30 s)


def push(run: dg.DagsterRun) -> None:
    url, source, token = (os.environ[k] for k in ("TEMPOX_URL", "TEMPOX_SOURCE", "TEMPOX_TOKEN"))
    request = urllib.request.Request(
        f"{url.rstrip('/')}/api/v1/sources/{urllib.parse.quote(source, safe='')}/sync",
        data=json.dumps({"run_id": run.run_id, "pipeline": run.job_name}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
        response.read()


def _sensor(status: dg.DagsterRunStatus) -> dg.SensorDefinition:
    @dg.run_status_sensor(
        name=f"tempox_push_{status.value.lower()}",
        run_status=status,
        monitor_all_code_locations=True,
        default_status=dg.DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=EVERY_S,
    )
    def tempox_push(context: dg.RunStatusSensorContext) -> None:
        push(context.dagster_run)

    return tempox_push


tempox_sensors = [
    _sensor(status)
    for status in (
        dg.DagsterRunStatus.SUCCESS,
        dg.DagsterRunStatus.FAILURE,
        dg.DagsterRunStatus.CANCELED,
    )
]
