"""Record the demo estate from real servers: ``python -m tests.api.demo.record``.

Starts real Airflow, Prefect and Dagster servers with the adapter tests' estates
(:mod:`tests.peers.estates`), adds the cross-tool story of
``tests/adapters/test_cross_tool.py`` and a Prefect task that slows down night after night,
then syncs the demo's sources (:func:`api.demo.estate.demo_sources`) into a scratch catalog
through recording proxies. What each server answered is written to
``api/demo/recordings/<tool>.json.gz``; the OpenLineage events a BI tool sends (through the
openlineage-python client's own serialisation) to ``openlineage.ndjson``. Takes a few
minutes; the orchestrators' virtual environments are the test suite's (``.cache/peers``).
"""

from __future__ import annotations

import os
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

from openlineage.client.event_v2 import InputDataset, Job, Run, RunEvent, RunState
from openlineage.client.facet_v2 import RunFacet, error_message_run
from openlineage.client.serde import Serde

from api.demo.estate import AIRFLOW_PASSWORD_ENV, OPENLINEAGE_EVENTS, RECORDINGS, demo_settings
from api.demo.replay import Cassette
from catalog.store.store import open_store
from catalog.sync import sync_sources
from catalog.sync_types import SyncStatus
from tests.peers.airflow import PASSWORD, AirflowStack
from tests.peers.dagster import DagsterServer
from tests.peers.estates import airflow_estate, dagster_estate, prefect_estate
from tests.peers.prefect import PrefectServer
from tests.peers.proxy import FaultProxy

DASHBOARD_JOB = Job(namespace="bi", name="refresh_revenue_dashboard")
REPORT = InputDataset(namespace="s3://reports", name="revenue_report")
PRODUCER = "https://github.com/tempox/tempox/blob/main/tests/api/demo/record.py"


def dashboard_refreshes() -> list[str]:
    """A BI tool refreshing the revenue dashboard twice: yesterday's refresh read the report,
    today's failed on a timeout. As the openlineage-python client serialises them."""
    now = datetime.now(UTC)
    events = []
    for started, error in ((now - timedelta(hours=20), None), (now, "query timed out after 300 s")):
        run_id = str(uuid4())
        facets: dict[str, RunFacet] = {}
        if error is not None:
            facets["errorMessage"] = error_message_run.ErrorMessageRunFacet(
                message=error, programmingLanguage="SQL"
            )
        for kind, at, run in (
            (RunState.START, started, Run(runId=run_id)),
            (
                RunState.COMPLETE if error is None else RunState.FAIL,
                started + timedelta(seconds=42),
                Run(runId=run_id, facets=facets),
            ),
        ):
            event = RunEvent(
                eventType=kind,
                eventTime=at.isoformat(),
                run=run,
                job=DASHBOARD_JOB,
                inputs=[REPORT],
                producer=PRODUCER,
            )
            events.append(Serde.to_json(event))
    return events


def run_cross_tool_story(airflow: AirflowStack, prefect: PrefectServer) -> None:
    failed = airflow.trigger("tempox_producer", {"fail": True})
    airflow.wait_for_runs([("tempox_producer", failed)])
    airflow.wait_quiet()
    prefect.run_flows("revenue-report", "nightly")
    prefect.wait_for_events()


def record(home: Path) -> None:
    for tool in ("airflow", "prefect", "dagster"):
        (home / tool).mkdir()
    airflow = airflow_estate(home / "airflow")
    stops = [airflow.stop]
    try:
        prefect = prefect_estate(home / "prefect")
        stops.append(prefect.stop)
        dagster: DagsterServer = dagster_estate(home / "dagster")
        stops.append(dagster.stop)
        run_cross_tool_story(airflow, prefect)
        events = dashboard_refreshes()
        roots = {"airflow": airflow.url, "prefect": prefect.root, "dagster": dagster.root}
        proxies = {tool: FaultProxy(root) for tool, root in roots.items()}
        for proxy in proxies.values():
            proxy.recording = []
        os.environ[AIRFLOW_PASSWORD_ENV] = PASSWORD
        url = f"sqlite:///{home / 'scratch.db'}"
        settings = demo_settings({tool: p.url for tool, p in proxies.items()})
        store = open_store(url, auto_upgrade=True)
        began = datetime.now(UTC)
        try:
            results = sync_sources(store, settings)
        finally:
            store.close()
        ended = datetime.now(UTC)
        failed = [f"{r.source}: {r.error}" for r in results if r.status is not SyncStatus.OK]
        if failed:
            sys.exit("the recording sync failed:\n" + "\n".join(failed))
        for tool, proxy in proxies.items():
            proxy.close()
            cassette = Cassette(tool, began, ended, proxy.recording or [])
            target = RECORDINGS / f"{tool}.json.gz"
            cassette.save(target)
            print(f"{target}: {len(cassette.exchanges)} exchanges, {target.stat().st_size:,} bytes")
        OPENLINEAGE_EVENTS.write_text("\n".join(events) + "\n", encoding="utf-8")
        print(f"{OPENLINEAGE_EVENTS}: {len(events)} events")
    finally:
        for stop in reversed(stops):
            stop()


if __name__ == "__main__":
    with tempfile.TemporaryDirectory(prefix="tempox-record-") as scratch:
        record(Path(scratch))
