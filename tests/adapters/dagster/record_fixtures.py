"""Record the answers of a real Dagster webserver as the fixtures of the Dagster unit tests.

Run from the repository root::

    PYTHONPATH=. .venv/bin/python tests/adapters/dagster/record_fixtures.py

It starts a real dagster-webserver with the harness of ``tests/peers/dagster.py`` (in a
temporary ``DAGSTER_HOME``), runs the estate of ``tests/adapters/dagster/defs/estate.py`` once
(every asset materialised, fx_job failed in ``convert``, a run-less materialisation of
``lake/raw/orders``), and then lets the adapter itself sync from scratch, capturing the ``data``
of every query it sends: the same documents, the same variables. Each answer is written as the
server sent it, only pretty-printed, to ``tests/fixtures/dagster/<name>.json``:

- ``workspace.json``: ``workspaceOrError`` (jobs, schedules, sensors);
- ``asset_nodes.json``: ``assetNodes`` (definitions, dependencies, owners, checks);
- ``runs.json``: ``runsOrError`` (every run, with step stats);
- ``job_snapshot_<job>.json``: ``pipelineSnapshotOrError`` of each job a run ran;
- ``run_logs_failed.json``: ``logsForRun`` of the failed fx_job run, and
  ``run_logs_<job>.json`` of any other run the adapter reads the log of (one that retried);
- ``assets.json``: ``assetsOrError`` (latest materialisation of each asset);
- ``materializations.json``: the batched ``assetOrError`` query (``a0``, ``a1`` … one per
  asset of ``assets.json`` with a materialisation, in that order);
- ``check_executions.json``: the batched ``assetCheckExecutions`` query (``a0``, ``a1`` … one
  per check of ``asset_nodes.json``, in the order of the nodes and their checks).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from adapters.dagster import DagsterAdapter, DagsterConfig
from tests.peers.dagster import DagsterServer

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "dagster"

# What the adapter calls each query (the ``what`` of DagsterSession.query) → fixture name.
NAMES = {
    "workspaceOrError": "workspace",
    "assetNodes": "asset_nodes",
    "runsOrError": "runs",
    "assetsOrError": "assets",
    "assetOrError (materialisations)": "materializations",
    "assetCheckExecutions": "check_executions",
}


def capture(url: str) -> list[tuple[str, dict[str, Any], Any]]:
    """Sync once from scratch with the real adapter; every (what, variables, data) it got."""
    adapter = DagsterAdapter("record", DagsterConfig(url=url))
    session = adapter.session
    original = session.query
    answers: list[tuple[str, dict[str, Any], Any]] = []

    def query(what: str, document: str, variables: dict[str, Any] | None = None) -> Any:
        data = original(what, document, variables)
        answers.append((what, dict(variables or {}), data))
        return data

    session.query = query  # type: ignore[method-assign]
    try:
        for _ in adapter.fetch(None):
            pass
    finally:
        adapter.close()
    return answers


def name_of(what: str, runs: list[dict[str, Any]]) -> str:
    if what in NAMES:
        return NAMES[what]
    if what.startswith("pipelineSnapshotOrError("):
        snapshot = what.removeprefix("pipelineSnapshotOrError(")[:-1]
        job = next(r["jobName"] for r in runs if r["pipelineSnapshotId"] == snapshot)
        return f"job_snapshot_{job}"
    if what.startswith("logsForRun("):
        run = next(r for r in runs if r["runId"] == what.removeprefix("logsForRun(")[:-1])
        # The failed run's log; any other run's (one that retried a step) by its job.
        return "run_logs_failed" if run["status"] == "FAILURE" else f"run_logs_{run['jobName']}"
    sys.exit(f"the adapter sent a query this script does not know: {what}")


def record_all(url: str, out: Path) -> None:
    answers = capture(url)
    runs = next(data for what, _, data in answers if what == "runsOrError")
    results = runs["runsOrError"]["results"]
    written: dict[str, str] = {}
    for what, variables, data in answers:
        name = name_of(what, results)
        if name in written:
            sys.exit(f"{name}: asked twice ({written[name]} and {what}); one page was expected")
        written[name] = what
        target = out / f"{name}.json"
        target.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        shown = f" {json.dumps(variables)}" if variables else ""
        print(f"{target}: {what}{shown}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--out", type=Path, default=FIXTURES)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="tempox-dagster-") as home:
        server = DagsterServer.start(Path(home))
        try:
            server.run_estate()
            record_all(server.root, args.out)
        finally:
            server.stop()


if __name__ == "__main__":
    main()
