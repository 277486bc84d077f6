"""The Prefect push recipe (``examples/push/prefect``) against a real Prefect 3 server: its
automation calls Tempox when a flow run finishes, and the run is in the catalog, with its
status, long before the hourly interval sync."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from catalog.adapter import SyncHint
from catalog.config import parse_settings
from catalog.store import tables as t
from catalog.store.store import Store
from catalog.sync import sync_source
from catalog.sync_triggers import request_sync
from catalog.sync_types import BatchStats, NullObserver, SyncStatus
from tests.adapters.views import catalog_runs, catalog_task_runs
from tests.peers.prefect import PrefectServer
from tests.peers.push import SOURCE, PushedTempox, tempox_for
from tests.peers.venvs import ROOT

pytestmark = [pytest.mark.peers, pytest.mark.slow, pytest.mark.xdist_group("peers")]

RECIPE = ROOT / "examples" / "push" / "prefect" / "tempox_automation.py"
FLOWS = ROOT / "tests" / "adapters" / "prefect" / "flows" / "push.py"
TTL = timedelta(minutes=5)


@pytest.fixture(scope="module")
def prefect_push(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrefectServer]:
    """A Prefect server of its own: the automation calls whatever Tempox the test started."""
    server = PrefectServer.start(tmp_path_factory.mktemp("prefect-push"))
    try:
        yield server
    finally:
        server.stop()


def install_recipe(server: PrefectServer, tempox: PushedTempox) -> str:
    env = server.env(client=True) | {
        "TEMPOX_URL": tempox.url,
        "TEMPOX_SOURCE": SOURCE,
        "TEMPOX_TOKEN": tempox.token,
    }
    done = subprocess.run(
        [str(server.bin / "python"), str(RECIPE)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def run_flow(server: PrefectServer, which: str) -> str:
    done = subprocess.run(
        [str(server.bin / "python"), str(FLOWS), which],
        env=server.env(client=True),
        cwd=server.home,
        capture_output=True,
        text=True,
        timeout=300,
    )
    found = re.search(r"^RUN (\S+)$", done.stdout, re.MULTILINE)
    assert found, done.stdout + done.stderr
    return found.group(1)


def test_the_automation_pushes_finished_flow_runs_into_the_catalog(
    prefect_push: PrefectServer, tmp_path: Path
) -> None:
    store = Store(f"sqlite:///{tmp_path / 'tempox.db'}")
    try:
        source = {"kind": "prefect", "api_url": prefect_push.url}
        with tempox_for(store, source) as tempox:
            assert "calls Tempox" in install_recipe(prefect_push, tempox)
            before = tempox.syncs()
            for which, status in (("ok", "SUCCESS"), ("fail", "FAILED")):
                run_id = run_flow(prefect_push, which)
                # The interval is an hour: only the push can bring the run in.
                assert tempox.wait_for_run(run_id, {status}) == status
                # What the push named is read on its own, first: the flow run and its tasks.
                assert hinted(source, SyncHint(run_id)) == ([run_id], which == "ok")
            assert hinted(source, SyncHint("not-a-flow-run-id")) == ([], False)
            assert tempox.syncs() > before
            sync = tempox.graphql("{ sources { nodes { sync { trigger } } } }")
            assert sync["sources"]["nodes"][0]["sync"]["trigger"] == "PUSH"
    finally:
        store.close()
    assert not os.environ.get("TEMPOX_TOKEN")  # the token went only to Prefect's block


def hinted(source: dict[str, object], hint: SyncHint) -> tuple[list[str], bool]:
    """The runs the adapter reads for ``hint`` alone, and whether it read task runs too."""
    settings = parse_settings({"sources": {SOURCE: source}}, file="tempox.toml")
    with settings.sources[SOURCE].create_adapter() as adapter:
        batches = list(adapter.fetch_hinted([hint], None))
    return [r.external_id for b in batches for r in b.runs], any(b.task_runs for b in batches)


def test_the_pushed_run_is_committed_whole_before_the_rest_of_the_sync(
    prefect_push: PrefectServer, tmp_path: Path
) -> None:
    store = Store(f"sqlite:///{tmp_path / 'tempox.db'}")
    try:
        config = parse_settings(
            {"sources": {SOURCE: {"kind": "prefect", "api_url": prefect_push.url}}},
            file="tempox.toml",
        )
        source = config.sources[SOURCE]
        assert sync_source(store, source, lease_ttl=TTL).status is SyncStatus.OK
        cursor = store.read_cursor(store.source_id(SOURCE))
        run_id = run_flow(prefect_push, "ok")
        request_sync(store, config, SOURCE, [SyncHint(run_id, "tempox-push-ok")])
        first = FirstCommit(store)
        result = sync_source(store, source, lease_ttl=TTL, observer=first)
        assert result.status is SyncStatus.OK, result.error
        # At the first commit of the sync the push served: the run, finished, with its task
        # run, and the cursor where the sync before left it.
        runs, task_runs, cursor_then = first.seen[0]
        assert runs[run_id].status == "success"
        assert {(r, task) for r, task, _ in task_runs if r == run_id} == {(run_id, "step")}
        assert cursor_then == cursor
        assert store.read_cursor(store.source_id(SOURCE)) != cursor  # the sync's own moved it
    finally:
        store.close()


class FirstCommit(NullObserver):
    """What the catalog holds when the sync's first batch has committed."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.seen: list[tuple[dict[str, t.Run], set[tuple[Any, ...]], Any]] = []

    def batch(self, source: str, stats: BatchStats) -> None:
        if not self.seen:
            cursor = self.store.read_cursor(self.store.source_id(source))
            runs = catalog_runs(self.store)
            self.seen.append((runs, catalog_task_runs(self.store, t.TaskRun.status), cursor))
