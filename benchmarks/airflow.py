"""Airflow adapter throughput: a full first sync and a sync with nothing new, on a real Airflow
3.3.2 (api-server, scheduler and dag-processor on 127.0.0.1, SQLite backed, from
``tests/peers``), against paging the same rows through the raw API with
``apache-airflow-client``, measured in the same run.

The estate is one DAG (``bench_dag``, three tasks, no schedule), paused, with ``--runs`` dag
runs created through ``POST /dags/bench_dag/dagRuns``. A paused DAG's runs stay queued and
their task instances stay in state null, so the scheduler does no work while we measure. With
``--finish`` every run is then marked successful (``PATCH``, which marks its task instances
successful too): the steady state of a catalog, where the runs read are finished ones.

Figures are medians of three rounds; each round pages the raw API (runs only, then runs and task
instances), syncs into a fresh store and syncs again (``benchmarks.adapter_rounds``, shared by
the adapter benchmarks). Before the rounds the benchmark waits until the last run it created or
changed is older than the adapter's ``overlap``, so the second sync finds nothing new rather
than the last two minutes of the estate's creation.
``python -m benchmarks.airflow --runs 1000`` (default) prints a Markdown table and writes JSON.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from airflow_client import client as af

from benchmarks.adapter_rounds import ROUNDS, bench_rounds, overlap_of, save, settle, table
from catalog.config import SourceSettings, parse_settings
from tests.peers.airflow import AIRFLOW_VERSION, PASSWORD, USERNAME, AirflowStack

HERE = Path(__file__).resolve().parent
DAG_ID = "bench_dag"
TASKS = 3
PAGE = 100  # the server's cap
PASSWORD_ENV = "TEMPOX_BENCH_AIRFLOW_PASSWORD"
DAG_FILE = '''"""The Airflow benchmark's DAG: three tasks in a row, run only when triggered."""

from datetime import datetime

from airflow.sdk import dag, task


@dag(dag_id="bench_dag", schedule=None, start_date=datetime(2020, 1, 1), catchup=False,
     tags=["tempox", "bench"], default_args={"owner": "bench"})
def bench_dag():
    @task
    def extract() -> int:
        return 1

    @task
    def transform(x: int) -> int:
        return x * 10

    @task
    def load(x: int) -> None:
        print(x)

    load(transform(extract()))


bench_dag()
'''


# -- the estate ---------------------------------------------------------------------------------


def create_runs(stack: AirflowStack, runs: int) -> float:
    """``runs`` dag runs of the paused DAG, one request at a time (SQLite locks under load)."""
    first = datetime(2024, 1, 1, tzinfo=UTC)
    step = max(1, runs // 10)
    start = time.perf_counter()
    for i in range(runs):
        body = {"logical_date": (first + timedelta(minutes=i)).isoformat(), "conf": {}}
        stack.api("POST", f"/dags/{DAG_ID}/dagRuns", json=body)
        if (i + 1) % step == 0 or i + 1 == runs:
            spent = time.perf_counter() - start
            print(f"  created {i + 1:,}/{runs:,} runs, {(i + 1) / spent:,.1f}/s", flush=True)
    return time.perf_counter() - start


def finish_runs(stack: AirflowStack) -> float:
    """Mark every run successful (and with it, its task instances)."""
    ids = [r["dag_run_id"] for r in stack.pages(f"/dags/{DAG_ID}/dagRuns", "dag_runs")]
    step = max(1, len(ids) // 10)
    start = time.perf_counter()
    for i, run_id in enumerate(ids):
        stack.api("PATCH", f"/dags/{DAG_ID}/dagRuns/{run_id}", json={"state": "success"})
        if (i + 1) % step == 0 or i + 1 == len(ids):
            spent = time.perf_counter() - start
            print(f"  finished {i + 1:,}/{len(ids):,} runs, {(i + 1) / spent:,.1f}/s", flush=True)
    return time.perf_counter() - start


# -- the baseline: the raw API through apache-airflow-client ----------------------------------


class RawApi:
    """The generated client, signed in with a ready token: no Tempox code on this path."""

    def __init__(self, stack: AirflowStack) -> None:
        configuration = af.Configuration(host=stack.url, access_token=stack.token())
        self.client = af.ApiClient(configuration)
        self.dag_runs = af.DagRunApi(self.client)
        self.task_instances = af.TaskInstanceApi(self.client)
        self.requests = 0

    def _pages(self, method: Callable[..., Any], key: str, **params: Any) -> int:
        """Rows of a keyset-paged list, read 100 at a time in id order (as the adapter does)."""
        rows, token = 0, ""
        while True:
            self.requests += 1
            page = method(limit=PAGE, cursor=token, order_by=["id"], **params)
            items = getattr(page, key)
            rows += len(items)
            if not items or not page.next_cursor:
                return rows
            token = page.next_cursor

    def read_runs(self) -> int:
        return self._pages(self.dag_runs.get_dag_runs, "dag_runs", dag_id="~")

    def read_task_instances(self) -> int:
        return self._pages(
            self.task_instances.get_task_instances,
            "task_instances",
            dag_id="~",
            dag_run_id="~",
        )

    def read_runs_and_task_instances(self) -> int:
        return self.read_runs() + self.read_task_instances()

    def close(self) -> None:
        self.client.rest_client.pool_manager.clear()


# -- Tempox ---------------------------------------------------------------------------------------


def source_settings(stack: AirflowStack) -> SourceSettings:
    """The ``[sources.airflow]`` table a user would write, its password in ``PASSWORD_ENV``."""
    table = {"kind": "airflow", "base_url": stack.url, "username": USERNAME}
    settings = parse_settings(
        {"sources": {"airflow": table | {"password_env": PASSWORD_ENV}}}, file="benchmark"
    )
    return settings.sources["airflow"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.airflow", description=__doc__)
    parser.add_argument("--runs", type=int, default=1000, help="dag runs to create (1000)")
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument(
        "--finish", action="store_true", help="mark every run successful before measuring"
    )
    parser.add_argument("--output", type=Path, default=HERE / "results" / "airflow.json")
    args = parser.parse_args(argv)
    os.environ[PASSWORD_ENV] = PASSWORD

    results: dict[str, Any] = {"airflow": AIRFLOW_VERSION, "database_kind": args.database}
    with tempfile.TemporaryDirectory(prefix="tempox-bench-airflow-") as tmp:
        dags = Path(tmp) / "dags"
        dags.mkdir()
        (dags / "bench_dag.py").write_text(DAG_FILE)
        print("starting Airflow (api-server, scheduler, dag-processor) …", flush=True)
        started = time.perf_counter()
        stack = AirflowStack.start(Path(tmp) / "home", dags, expect_dags=1)
        try:
            print(f"  up at {stack.url} in {time.perf_counter() - started:.0f}s", flush=True)
            stack.api("PATCH", f"/dags/{DAG_ID}", json={"is_paused": True})
            print(f"creating {args.runs:,} dag runs of the paused {DAG_ID} …", flush=True)
            created = create_runs(stack, args.runs)
            results["create_s"] = created
            results["create_runs_per_s"] = args.runs / created
            if args.finish:
                print("marking every run successful …", flush=True)
                results["finish_s"] = finish_runs(stack)
            last_change = datetime.now(UTC)
            runs = stack.api("GET", "/dags/~/dagRuns", params={"limit": 1})["total_entries"]
            page = stack.api("GET", "/dags/~/dagRuns/~/taskInstances", params={"limit": 1})
            task_instances = page["total_entries"]
            if runs != args.runs or task_instances != args.runs * TASKS:
                raise RuntimeError(
                    f"Airflow has {runs} runs and {task_instances} task instances, "
                    f"expected {args.runs} and {args.runs * TASKS}"
                )
            states = stack.api("GET", "/dags/~/dagRuns", params={"state": "queued", "limit": 1})
            results["estate"] = {
                "runs": runs,
                "task_instances": task_instances,
                "queued_runs": states["total_entries"],
                "finished": args.finish,
            }
            source = source_settings(stack)
            results["settled_s"] = settle(last_change, overlap_of(source))
            raw = RawApi(stack)
            try:
                results["bench"] = bench_rounds(
                    label="airflow",
                    source=source,
                    raw_runs=raw.read_runs,
                    raw_runs_and_tasks=raw.read_runs_and_task_instances,
                    raw_requests=lambda: raw.requests,
                    runs=runs,
                    task_runs=task_instances,
                    kind=args.database,
                    tasks_word="TIs",
                )
            finally:
                raw.close()
        finally:
            print("stopping Airflow …", flush=True)
            stack.stop()

    save(results, args.output)
    print(report(results))


def report(r: dict[str, Any]) -> str:
    e, b, m = r["estate"], r["bench"], r["machine"]
    state = "finished (success)" if e["finished"] else "queued"
    return "\n".join(
        [
            f"Machine: {m['cpu']}, {m['memory']} RAM, Python {m['python']}, {m['database']}. "
            f"Airflow {r['airflow']} (SQLite) on 127.0.0.1: {e['runs']:,} {state} runs, "
            f"{e['task_instances']:,} task instances. Medians of {ROUNDS} rounds.",
            "",
            *table(b, reading="Airflow", raw="raw client", with_tasks="runs + task instances"),
        ]
    )


if __name__ == "__main__":
    main()
