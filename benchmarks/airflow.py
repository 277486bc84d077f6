"""Airflow adapter throughput: a full first sync and a sync with nothing new, on a real Airflow
3.3.2 (api-server, scheduler and dag-processor on 127.0.0.1, SQLite backed, from
``tests/peers``), against paging the same rows through the raw API with
``apache-airflow-client``, measured in the same run.

The estate is one DAG (``bench_dag``, three tasks, no schedule), paused, with ``--runs`` dag
runs created through ``POST /dags/bench_dag/dagRuns``. A paused DAG's runs stay queued and
their task instances stay in state null, so the scheduler does no work while we measure. With
``--finish`` every run is then marked successful (``PATCH``, which marks its task instances
successful too): the steady state of a catalog, where the runs read are finished ones.

Figures are medians of three rounds; each round pages the raw API (runs only, then runs and
task instances), syncs into a fresh store and syncs again. Before the rounds the benchmark
waits until the last run it created or changed is older than the adapter's ``overlap``, so the
second sync finds nothing new rather than the last two minutes of the estate's creation.
``python -m benchmarks.airflow --runs 1000`` (default) prints a Markdown table and writes JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from airflow_client import client as af
from sqlalchemy import func, select

from adapters.airflow import AirflowAdapter
from benchmarks.__main__ import database
from benchmarks.machine import describe
from catalog.config import SourceSettings, parse_settings
from catalog.records import Batch, Cursor
from catalog.store import tables as t
from catalog.store.store import Store
from catalog.sync import SyncStatus, sync_source
from tests.peers.airflow import AIRFLOW_VERSION, PASSWORD, USERNAME, AirflowStack

HERE = Path(__file__).resolve().parent
DAG_ID = "bench_dag"
TASKS = 3
ROUNDS = 3
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

    def close(self) -> None:
        self.client.rest_client.pool_manager.clear()


# -- Tempox ---------------------------------------------------------------------------------------


def source_settings(
    stack: AirflowStack, requests: list[int], reading: list[float]
) -> SourceSettings:
    """The ``[sources.airflow]`` table a user would write, its adapter counting requests and
    the time spent reading Airflow (the rest of a sync is the store's).

    The count is the adapter's own (``AirflowSession.requests``, the sign-in included), read
    when the sync engine closes the adapter; the sync itself is the engine's, leases and all.
    """

    class CountingAirflowAdapter(AirflowAdapter):
        reading = 0.0  # seconds spent inside fetch: HTTP, the client's parsing, mapping

        def fetch(self, cursor: Cursor | None) -> Iterator[Batch]:
            batches = super().fetch(cursor)
            while True:
                start = time.perf_counter()
                batch = next(batches, None)
                self.reading += time.perf_counter() - start
                if batch is None:
                    return
                yield batch

        def close(self) -> None:
            if self._session is not None:
                requests.append(self._session.requests)
                reading.append(self.reading)
            super().close()

    table = {"kind": "airflow", "base_url": stack.url, "username": USERNAME}
    settings = parse_settings(
        {"sources": {"airflow": table | {"password_env": PASSWORD_ENV}}}, file="benchmark"
    )
    return replace(settings.sources["airflow"], adapter=CountingAirflowAdapter)


def timed_sync(
    store: Store, source: SourceSettings, requests: list[int], reading: list[float]
) -> dict[str, float]:
    before = len(requests)
    start = time.perf_counter()
    result = sync_source(store, source, lease_ttl=timedelta(minutes=30))
    spent = time.perf_counter() - start
    if result.status is not SyncStatus.OK:
        raise RuntimeError(f"the sync failed: {result.error}")
    assert len(requests) == before + 1, "the adapter was not closed"
    return {
        "seconds": spent,
        "requests": requests[-1],
        "reading_s": reading[-1],
        "records": result.records,
        "batches": result.batches,
    }


def stored(store: Store) -> tuple[int, int]:
    with store.session() as s:
        runs = s.scalar(select(func.count()).select_from(t.Run))
        task_runs = s.scalar(select(func.count()).select_from(t.TaskRun))
    return int(runs or 0), int(task_runs or 0)


# -- the benchmark --------------------------------------------------------------------------------


def bench_airflow(stack: AirflowStack, runs: int, task_instances: int, kind: str) -> dict[str, Any]:
    """Median of ``ROUNDS`` rounds of: raw runs, raw runs + task instances, Tempox first sync
    into a fresh store, Tempox sync with nothing new."""
    samples: dict[str, list[float]] = {
        "raw_runs_s": [],
        "raw_runs_tis_s": [],
        "first_sync_s": [],
        "first_sync_requests": [],
        "first_sync_reading_s": [],
        "second_sync_s": [],
        "second_sync_requests": [],
        "second_sync_reading_s": [],
    }
    requests: list[int] = []
    reading: list[float] = []
    source = source_settings(stack, requests, reading)
    raw = RawApi(stack)
    out: dict[str, Any] = {}
    try:
        for n in range(ROUNDS):
            start, asked = time.perf_counter(), raw.requests
            got = raw.read_runs()
            samples["raw_runs_s"].append(time.perf_counter() - start)
            out["raw_requests_runs_only"] = raw.requests - asked
            assert got == runs, f"the raw API listed {got} runs, not {runs}"
            start, asked = time.perf_counter(), raw.requests
            got = raw.read_runs() + raw.read_task_instances()
            samples["raw_runs_tis_s"].append(time.perf_counter() - start)
            out["raw_requests_runs_tis"] = raw.requests - asked
            assert got == runs + task_instances, f"the raw API listed {got} rows"
            with database(kind, "airflow") as url:
                store = Store(url)
                try:
                    if n == 0:
                        out["machine"] = describe(store.engine)
                    first = timed_sync(store, source, requests, reading)
                    found = stored(store)
                    if found != (runs, task_instances):
                        raise RuntimeError(f"the store holds {found} runs and task runs")
                    second = timed_sync(store, source, requests, reading)
                finally:
                    store.close()
            samples["first_sync_s"].append(first["seconds"])
            samples["first_sync_requests"].append(first["requests"])
            samples["first_sync_reading_s"].append(first["reading_s"])
            samples["second_sync_s"].append(second["seconds"])
            samples["second_sync_requests"].append(second["requests"])
            samples["second_sync_reading_s"].append(second["reading_s"])
            out.setdefault("first_sync_records", first["records"])
            out.setdefault("first_sync_batches", first["batches"])
            out.setdefault("second_sync_records", second["records"])
            print(
                f"  round {n + 1}/{ROUNDS}: raw runs {samples['raw_runs_s'][-1]:.2f}s, "
                f"raw runs+TIs {samples['raw_runs_tis_s'][-1]:.2f}s, "
                f"first sync {first['seconds']:.2f}s ({first['requests']:.0f} requests), "
                f"no-change sync {second['seconds']:.2f}s ({second['requests']:.0f} requests)",
                flush=True,
            )
    finally:
        raw.close()
    med = {k: statistics.median(v) for k, v in samples.items()}
    return {
        **out,
        "samples": samples,
        "raw_runs_only_runs_per_s": runs / med["raw_runs_s"],
        "raw_runs_tis_runs_per_s": runs / med["raw_runs_tis_s"],
        "tempox_first_sync_s": med["first_sync_s"],
        "tempox_first_sync_runs_per_s": runs / med["first_sync_s"],
        "tempox_first_sync_requests": med["first_sync_requests"],
        "tempox_first_sync_reading_airflow_s": med["first_sync_reading_s"],
        "ratio_vs_raw_runs_tis": (runs / med["first_sync_s"]) / (runs / med["raw_runs_tis_s"]),
        "ratio_vs_raw_runs_only": (runs / med["first_sync_s"]) / (runs / med["raw_runs_s"]),
        "no_change_sync_s": med["second_sync_s"],
        "no_change_sync_requests": med["second_sync_requests"],
        "no_change_sync_reading_airflow_s": med["second_sync_reading_s"],
    }


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
            # Airflow runs on this machine: its clock is ours.
            overlap = source_settings(stack, [], []).config.overlap  # type: ignore[union-attr]
            settle = last_change + overlap + timedelta(seconds=2)
            wait = (settle - datetime.now(UTC)).total_seconds()
            if wait > 0:
                print(
                    f"waiting {wait:.0f}s until the last change is older than the adapter's "
                    f"overlap ({overlap.total_seconds():.0f}s) …",
                    flush=True,
                )
                time.sleep(wait)
            results["settled_s"] = max(wait, 0.0)
            print(f"measuring, {ROUNDS} rounds …", flush=True)
            results["bench"] = bench_airflow(stack, runs, task_instances, args.database)
        finally:
            print("stopping Airflow …", flush=True)
            stack.stop()

    results["machine"] = results["bench"].pop("machine")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2, default=str))
    print(json.dumps({k: v for k, v in results["bench"].items() if k != "samples"}, indent=2))
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
            "| measure | Tempox | baseline (same run) | ratio |",
            "|---|---|---|---|",
            f"| first sync, runs/s | {b['tempox_first_sync_runs_per_s']:,.0f} "
            f"({b['tempox_first_sync_s']:.2f}s, {b['tempox_first_sync_requests']:.0f} requests, "
            f"{b['tempox_first_sync_reading_airflow_s']:.2f}s of it reading Airflow) "
            f"| {b['raw_runs_tis_runs_per_s']:,.0f} (raw client: runs + task instances, "
            f"{b['raw_requests_runs_tis']} requests) | {b['ratio_vs_raw_runs_tis']:.2f}x |",
            f"| first sync, runs/s | {b['tempox_first_sync_runs_per_s']:,.0f} "
            f"| {b['raw_runs_only_runs_per_s']:,.0f} (raw client: runs only, "
            f"{b['raw_requests_runs_only']} requests) | {b['ratio_vs_raw_runs_only']:.2f}x |",
            f"| sync with nothing new | {b['no_change_sync_s']:.2f}s, "
            f"{b['no_change_sync_requests']:.0f} requests | | |",
        ]
    )


if __name__ == "__main__":
    main()
