"""Airflow 3 listener plugin: tell Tempox the moment a dag run finishes.

Copy this file into ``$AIRFLOW_HOME/plugins/`` (of the scheduler and the API server: both mark
dag runs finished) and set, in their environment:

- ``TEMPOX_URL``: Tempox's address, e.g. ``https://tempox.example.com``;
- ``TEMPOX_SOURCE``: the name of this Airflow in Tempox's ``[sources.<name>]``;
- ``TEMPOX_TOKEN``: an API token with the ``ingest`` scope (``tempox tokens create``).

Airflow calls the listener inside the transaction that marks the run finished, so the push
waits for that commit (Tempox would otherwise read the run as still running), and is sent from
a thread, so a slow or unreachable Tempox never holds up the scheduler. A push that fails is
logged; Tempox's interval sync catches the run later.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import urllib.parse
import urllib.request
from typing import Any

from airflow.listeners import hookimpl
from airflow.plugins_manager import AirflowPlugin

log = logging.getLogger(__name__)
TIMEOUT_S = 10


def _send(dag_id: str, run_id: str) -> None:
    names = ("TEMPOX_URL", "TEMPOX_SOURCE", "TEMPOX_TOKEN")
    url, source, token = (os.environ.get(k) for k in names)
    if not (url and source and token):
        log.warning("tempox push: set TEMPOX_URL, TEMPOX_SOURCE and TEMPOX_TOKEN")
        return
    request = urllib.request.Request(
        f"{url.rstrip('/')}/api/v1/sources/{urllib.parse.quote(source, safe='')}/sync",
        data=json.dumps({"pipeline": dag_id, "run_id": run_id}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            response.read()
    except Exception as exc:  # never let Tempox trouble reach Airflow
        log.warning("tempox push for %s/%s failed: %s", dag_id, run_id, exc)


def _push(dag_run: Any) -> None:
    dag_id, run_id = dag_run.dag_id, dag_run.run_id

    def send(*_: Any) -> None:
        threading.Thread(target=_send, args=(dag_id, run_id), daemon=True).start()

    try:
        from sqlalchemy import event
        from sqlalchemy.orm import object_session

        session = object_session(dag_run)
    except Exception:
        session = None
    if session is None:
        send()
    else:
        event.listen(session, "after_commit", send, once=True)


class _Listener:
    @hookimpl
    def on_dag_run_success(self, dag_run: Any, msg: str) -> None:
        _push(dag_run)

    @hookimpl
    def on_dag_run_failed(self, dag_run: Any, msg: str) -> None:
        _push(dag_run)


class TempoxPushPlugin(AirflowPlugin):
    name = "tempox_push"
    listeners = [_Listener()]
