"""The Dagster push recipe (``examples/push/dagster``) against a real Dagster with its daemon:
the run-status sensors call Tempox when a run finishes, and the run is in the catalog, with
its status, long before the hourly interval sync."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from catalog.adapter import SyncHint
from catalog.config import parse_settings
from catalog.store.store import Store
from tests.peers.dagster import DagsterServer
from tests.peers.processes import Service
from tests.peers.push import SOURCE, PushedTempox, tempox_for
from tests.peers.venvs import ROOT

pytestmark = [pytest.mark.peers, pytest.mark.slow, pytest.mark.xdist_group("peers")]

DEFS = ROOT / "tests" / "adapters" / "dagster" / "push_defs"
MODULE = "push_estate"
LATEST_RUN = """
query Latest($job: String!) {
  runsOrError(filter: {pipelineName: $job}, limit: 1) { ... on Runs { results { runId status } } }
}
"""


@dataclass
class PushDagster:
    server: DagsterServer

    def start_daemon(self, tempox: PushedTempox) -> Service:
        """The daemon runs the sensors; they reach Tempox with what the environment says."""
        env = self.server.env() | {
            "TEMPOX_URL": tempox.url,
            "TEMPOX_SOURCE": SOURCE,
            "TEMPOX_TOKEN": tempox.token,
        }
        argv = [str(self.server.bin / "dagster-daemon"), "run", "-m", MODULE, "-d", str(DEFS)]
        return Service("dagster-daemon", argv, env, self.server.home / "logs", DEFS)

    def run(self, job: str, *, fails: bool) -> str:
        self.server.cli(
            ["job", "execute", "-m", MODULE, "-d", str(DEFS), "-j", job], expect_failure=fails
        )
        data = self.server.graphql(LATEST_RUN, {"job": job})
        return str(data["runsOrError"]["results"][0]["runId"])


@pytest.fixture(scope="module")
def dagster_push(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PushDagster]:
    server = DagsterServer.start(tmp_path_factory.mktemp("dagster-push"), DEFS, MODULE)
    try:
        yield PushDagster(server)
    finally:
        server.stop()


def test_the_sensors_push_finished_runs_into_the_catalog(
    dagster_push: PushDagster, tmp_path: Path
) -> None:
    store = Store(f"sqlite:///{tmp_path / 'tempox.db'}")
    try:
        source = {"kind": "dagster", "url": dagster_push.server.url}
        with tempox_for(store, source) as tempox:
            daemon = dagster_push.start_daemon(tempox)
            try:
                before = tempox.syncs()
                for job, fails, status in (
                    ("push_ok_job", False, "SUCCESS"),
                    ("push_fail_job", True, "FAILED"),
                ):
                    run_id = dagster_push.run(job, fails=fails)
                    # The interval is an hour: only the sensor's push can bring the run in.
                    assert tempox.wait_for_run(run_id, {status}) == status, daemon.tail()
                    # What the push named is read on its own, first: the run and its steps.
                    assert hinted(source, SyncHint(run_id, job)) == ([run_id], True)
                assert tempox.syncs() > before
            finally:
                daemon.stop()
    finally:
        store.close()


def hinted(source: dict[str, object], hint: SyncHint) -> tuple[list[str], bool]:
    """The runs the adapter reads for ``hint`` alone, and whether it read task runs too."""
    settings = parse_settings({"sources": {SOURCE: source}}, file="tempox.toml")
    with settings.sources[SOURCE].create_adapter() as adapter:
        batches = list(adapter.fetch_hinted([hint], None))
    return [r.external_id for b in batches for r in b.runs], any(b.task_runs for b in batches)
