"""The Airflow push recipe (``examples/push/airflow``) against a real Airflow 3: its listener
plugin calls Tempox when a dag run finishes, and the run is in the catalog, with its status,
long before the hourly interval sync."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from catalog.adapter import SyncHint
from catalog.config import parse_settings
from catalog.store.store import Store
from tests.peers.airflow import PASSWORD, PASSWORD_ENV, USERNAME, AirflowStack
from tests.peers.estates import DAG_IDS, DAGS
from tests.peers.processes import free_port
from tests.peers.push import SOURCE, ingest_token, tempox_for
from tests.peers.venvs import ROOT

pytestmark = [pytest.mark.peers, pytest.mark.slow, pytest.mark.xdist_group("peers")]

PLUGIN = ROOT / "examples" / "push" / "airflow" / "plugins" / "tempox_push.py"


def test_the_listener_plugin_pushes_finished_dag_runs_into_the_catalog(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(f"sqlite:///{tmp_path / 'tempox.db'}")
    port = free_port()  # Airflow must know where Tempox will listen before it starts
    token = ingest_token(store)
    # The plugin's settings, as the Airflow processes' environment carries them.
    monkeypatch.setenv("TEMPOX_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("TEMPOX_SOURCE", SOURCE)
    monkeypatch.setenv("TEMPOX_TOKEN", token)
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    home = tmp_path / "airflow"
    (home / "plugins").mkdir(parents=True)
    shutil.copy(PLUGIN, home / "plugins")
    stack = AirflowStack.start(home, DAGS, expect_dags=len(DAG_IDS))
    try:
        source = {
            "kind": "airflow",
            "base_url": stack.url,
            "username": USERNAME,
            "password_env": PASSWORD_ENV,
        }
        with tempox_for(store, source, port=port, token=token) as tempox:
            stack.wait_quiet()
            before = tempox.syncs()
            for dag_id, status in (("tempox_etl", "SUCCESS"), ("tempox_failing", "FAILED")):
                run_id = stack.trigger(dag_id)
                stack.wait_for_runs([(dag_id, run_id)])
                # The interval is an hour: only the listener's push can bring the run in.
                # Tempox names a dag run by its DAG and its id.
                external_id = f"{dag_id}/{run_id}"
                assert tempox.wait_for_run(external_id, {status}, timeout=120) == status
                # What the push named is read on its own, first: the run and all its tries,
                # however many pages they take (one task instance a page here).
                runs, tasks = hinted(source, SyncHint(run_id, dag_id))
                assert runs == [external_id]
                assert len(tasks) > 1
                assert hinted({**source, "page_size": 1}, SyncHint(run_id, dag_id)) == (
                    runs,
                    tasks,
                )
            assert tempox.syncs() > before
    finally:
        stack.stop()
        store.close()


def hinted(source: dict[str, object], hint: SyncHint) -> tuple[list[str], set[str]]:
    """The runs the adapter reads for ``hint`` alone, and the task runs it read with them."""
    settings = parse_settings({"sources": {SOURCE: source}}, file="tempox.toml")
    with settings.sources[SOURCE].create_adapter() as adapter:
        batches = list(adapter.fetch_hinted([hint], None))
    assert len(batches) == 1  # one commit: the run never shows without its task runs
    return [r.external_id for r in batches[0].runs], {
        f"{t.task_id}#{t.map_index}#{t.attempt}" for t in batches[0].task_runs
    }
