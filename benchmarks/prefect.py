"""Prefect adapter throughput: a full first sync and a sync with nothing new, on a real Prefect
3.8.8 server (``prefect server start`` on 127.0.0.1, SQLite backed, from ``tests/peers``),
against paging the same rows through the raw API with ``prefect-client``'s
``SyncPrefectClient``, measured in the same run.

The estate is one flow (``bench-flow``) with ``--runs`` flow runs of ``--tasks-per-run`` task
runs each, written through the server's own REST API rather than by running flows (a real
flow run costs about a second). Each flow run is created SCHEDULED for a time spread over the
last three hours (its expected start), then forced RUNNING and COMPLETED; each task run is
created RUNNING, its ``task_inputs`` naming the task run before it, then forced COMPLETED. The
API takes no timestamps for states, so start and end times are those of the estate's creation
(the expected start times are the spread ones): the steady state of a catalog, where every run
read has finished.

Figures are medians of three rounds; each round pages the raw API (runs only, then runs and
their task runs), syncs into a fresh store and syncs again. Before the rounds the benchmark
waits until the last run it created is older than the adapter's ``overlap``, so the second
sync finds nothing new rather than the last two minutes of the estate's creation.
``python -m benchmarks.prefect --runs 1000`` (default) prints a Markdown table and writes JSON.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
from prefect.client.orchestration import SyncPrefectClient
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from prefect.client.schemas.sorting import FlowRunSort, TaskRunSort
from sqlalchemy import func, select

from adapters.prefect import PrefectAdapter
from adapters.prefect.adapter import FLOW_RUN_IDS_PER_QUERY
from benchmarks.__main__ import database
from benchmarks.machine import describe
from catalog.config import SourceSettings, parse_settings
from catalog.records import Batch, Cursor
from catalog.store import tables as t
from catalog.store.store import Store
from catalog.sync import SyncStatus, sync_source
from tests.peers.prefect import PREFECT_VERSION, PrefectServer

HERE = Path(__file__).resolve().parent
FLOW = "bench-flow"
ROUNDS = 3
PAGE = 200  # the server's cap
WORKERS = 1  # writers while building the estate: more make the server's SQLite answer 503
SPREAD = timedelta(hours=3)  # expected start times, over the last three hours


# -- the estate ---------------------------------------------------------------------------------


class Writer:
    """The server's REST API through one keep-alive ``httpx.Client``, shared by the threads."""

    def __init__(self, server: PrefectServer) -> None:
        self.http = httpx.Client(
            base_url=server.url,
            timeout=60,
            limits=httpx.Limits(max_connections=WORKERS, max_keepalive_connections=WORKERS),
        )
        self.requests = 0
        self.retries = 0
        self._lock = threading.Lock()

    def post(self, path: str, body: dict[str, Any]) -> Any:
        """POST, again on the 500/503 of a locked SQLite (every write here is idempotent:
        flow runs carry an idempotency key, task runs are unique per flow run, key and dynamic
        key, and a state forced twice is the same state)."""
        for attempt in range(10):
            with self._lock:
                self.requests += 1
                self.retries += attempt > 0
            try:
                r = self.http.post(path, json=body)
            except httpx.TransportError:
                time.sleep(1)
                continue
            if r.status_code not in (500, 503):
                break
            time.sleep(1)
        if r.status_code >= 400:
            raise RuntimeError(f"POST {path}: {r.status_code} {r.text}")
        return r.json()

    def set_state(self, kind: str, run_id: str, state: str) -> None:
        body = {"state": {"type": state}, "force": True}
        answer = self.post(f"/{kind}/{run_id}/set_state", body)
        if answer["status"] != "ACCEPT":
            raise RuntimeError(f"{kind} {run_id}: {state} was not accepted: {answer}")

    def count(self, path: str, body: dict[str, Any] | None = None) -> int:
        return int(self.post(path, body or {}))

    def close(self) -> None:
        self.http.close()


def task_key(step: int) -> str:
    """``step_1-3f2c9a0b``: the task's name and a code hash, as Prefect writes task keys."""
    return f"step_{step}-{hashlib.sha256(f'step_{step}'.encode()).hexdigest()[:8]}"


def create_run(writer: Writer, flow_id: str, i: int, expected: datetime, tasks: int) -> None:
    """Flow run ``i``: SCHEDULED at ``expected``, RUNNING, its task runs (each RUNNING, then
    COMPLETED, fed by the one before), COMPLETED."""
    run = writer.post(
        "/flow_runs/",
        {
            "flow_id": flow_id,
            "name": f"bench-run-{i:05d}",
            "tags": ["bench", "tempox"],
            "parameters": {"i": i, "day": expected.date().isoformat()},
            "idempotency_key": f"bench-{i}",
            "state": {
                "type": "SCHEDULED",
                "state_details": {"scheduled_time": expected.isoformat()},
            },
        },
    )
    writer.set_state("flow_runs", run["id"], "RUNNING")
    previous: str | None = None
    for step in range(tasks):
        inputs = {"x": [{"input_type": "task_run", "id": previous}]} if previous else {}
        task_run = writer.post(
            "/task_runs/",
            {
                "flow_run_id": run["id"],
                "task_key": task_key(step),
                "dynamic_key": "0",
                "name": f"step_{step}-0",
                "tags": ["bench"],
                "task_inputs": inputs,
                "state": {"type": "RUNNING"},
            },
        )
        writer.set_state("task_runs", task_run["id"], "COMPLETED")
        previous = task_run["id"]
    writer.set_state("flow_runs", run["id"], "COMPLETED")


def create_estate(writer: Writer, runs: int, tasks: int) -> dict[str, Any]:
    """``runs`` flow runs of ``tasks`` task runs, ``WORKERS`` flow runs at a time."""
    flow = writer.post("/flows/", {"name": FLOW})
    first = datetime.now(UTC) - SPREAD
    step = max(1, runs // 10)
    done = 0
    start = time.perf_counter()
    with ThreadPoolExecutor(WORKERS) as pool:
        futures = [
            pool.submit(create_run, writer, flow["id"], i, first + SPREAD * i / runs, tasks)
            for i in range(runs)
        ]
        for future in futures:
            future.result()
            done += 1
            if done % step == 0 or done == runs:
                spent = time.perf_counter() - start
                print(
                    f"  created {done:,}/{runs:,} flow runs ({done * tasks:,} task runs), "
                    f"{done / spent:,.1f} runs/s, {writer.requests / spent:,.0f} requests/s",
                    flush=True,
                )
    spent = time.perf_counter() - start
    return {
        "create_s": spent,
        "create_runs_per_s": runs / spent,
        "create_requests": writer.requests,
        "create_requests_per_s": writer.requests / spent,
        "create_retries": writer.retries,
        "create_workers": WORKERS,
    }


# -- the baseline: the raw API through prefect-client -------------------------------------------


class RawApi:
    """``SyncPrefectClient`` as a user would open it: no Tempox code on this path. Pages and
    sorts as the adapter does (200 at a time by expected start; task runs for 50 flow runs
    at a time), so the two read the same rows with the same queries."""

    def __init__(self, server: PrefectServer) -> None:
        self.requests = 0
        self.client = SyncPrefectClient(
            server.url, httpx_settings={"event_hooks": {"response": [self._count]}}
        )
        self.client.__enter__()

    def _count(self, response: httpx.Response) -> None:
        self.requests += 1

    def read_runs(self) -> list[UUID]:
        ids: list[UUID] = []
        while True:
            page = self.client.read_flow_runs(
                sort=FlowRunSort.EXPECTED_START_TIME_ASC, limit=PAGE, offset=len(ids)
            )
            ids += [r.id for r in page]
            if len(page) < PAGE:
                return ids

    def read_task_runs(self, flow_run_ids: list[UUID]) -> int:
        rows = 0
        for i in range(0, len(flow_run_ids), FLOW_RUN_IDS_PER_QUERY):
            query = FlowRunFilter(
                id=FlowRunFilterId(any_=flow_run_ids[i : i + FLOW_RUN_IDS_PER_QUERY])
            )
            offset = 0
            while True:
                page = self.client.read_task_runs(
                    flow_run_filter=query,
                    sort=TaskRunSort.EXPECTED_START_TIME_ASC,
                    limit=PAGE,
                    offset=offset,
                )
                offset += len(page)
                if len(page) < PAGE:
                    break
            rows += offset
        return rows

    def close(self) -> None:
        self.client.__exit__(None, None, None)


# -- Tempox ---------------------------------------------------------------------------------------


def source_settings(
    server: PrefectServer, requests: list[int], reading: list[float]
) -> SourceSettings:
    """The ``[sources.prefect]`` table a user would write, its adapter counting requests and
    the time spent reading Prefect (the rest of a sync is the store's).

    The count is the adapter's own (``PrefectSession.requests``), read when the sync engine
    closes the adapter; the sync itself is the engine's, leases and all.
    """

    class CountingPrefectAdapter(PrefectAdapter):
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

    table = {"kind": "prefect", "api_url": server.url}
    settings = parse_settings({"sources": {"prefect": table}}, file="benchmark")
    return replace(settings.sources["prefect"], adapter=CountingPrefectAdapter)


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


def bench_prefect(server: PrefectServer, runs: int, task_runs: int, kind: str) -> dict[str, Any]:
    """Median of ``ROUNDS`` rounds of: raw runs, raw runs + task runs, Tempox first sync into a
    fresh store, Tempox sync with nothing new."""
    samples: dict[str, list[float]] = {
        "raw_runs_s": [],
        "raw_runs_trs_s": [],
        "first_sync_s": [],
        "first_sync_requests": [],
        "first_sync_reading_s": [],
        "second_sync_s": [],
        "second_sync_requests": [],
        "second_sync_reading_s": [],
    }
    requests: list[int] = []
    reading: list[float] = []
    source = source_settings(server, requests, reading)
    raw = RawApi(server)
    out: dict[str, Any] = {}
    try:
        for n in range(ROUNDS):
            start, asked = time.perf_counter(), raw.requests
            got = len(raw.read_runs())
            samples["raw_runs_s"].append(time.perf_counter() - start)
            out["raw_requests_runs_only"] = raw.requests - asked
            assert got == runs, f"the raw API listed {got} flow runs, not {runs}"
            start, asked = time.perf_counter(), raw.requests
            ids = raw.read_runs()
            got = len(ids) + raw.read_task_runs(ids)
            samples["raw_runs_trs_s"].append(time.perf_counter() - start)
            out["raw_requests_runs_trs"] = raw.requests - asked
            assert got == runs + task_runs, f"the raw API listed {got} rows"
            with database(kind, "prefect") as url:
                store = Store(url)
                try:
                    if n == 0:
                        out["machine"] = describe(store.engine)
                    first = timed_sync(store, source, requests, reading)
                    found = stored(store)
                    if found != (runs, task_runs):
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
                f"raw runs+task runs {samples['raw_runs_trs_s'][-1]:.2f}s, "
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
        "raw_runs_trs_runs_per_s": runs / med["raw_runs_trs_s"],
        "tempox_first_sync_s": med["first_sync_s"],
        "tempox_first_sync_runs_per_s": runs / med["first_sync_s"],
        "tempox_first_sync_requests": med["first_sync_requests"],
        "tempox_first_sync_reading_prefect_s": med["first_sync_reading_s"],
        "ratio_vs_raw_runs_trs": (runs / med["first_sync_s"]) / (runs / med["raw_runs_trs_s"]),
        "ratio_vs_raw_runs_only": (runs / med["first_sync_s"]) / (runs / med["raw_runs_s"]),
        "no_change_sync_s": med["second_sync_s"],
        "no_change_sync_requests": med["second_sync_requests"],
        "no_change_sync_reading_prefect_s": med["second_sync_reading_s"],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.prefect", description=__doc__)
    parser.add_argument("--runs", type=int, default=1000, help="flow runs to create (1000)")
    parser.add_argument(
        "--tasks-per-run", type=int, default=3, help="task runs per flow run, in a chain (3)"
    )
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--output", type=Path, default=HERE / "results" / "prefect.json")
    args = parser.parse_args(argv)
    tasks = args.tasks_per_run

    results: dict[str, Any] = {"prefect": PREFECT_VERSION, "database_kind": args.database}
    with tempfile.TemporaryDirectory(prefix="tempox-bench-prefect-") as tmp:
        print("starting the Prefect server …", flush=True)
        started = time.perf_counter()
        server = PrefectServer.start(Path(tmp))
        writer = Writer(server)
        try:
            print(f"  up at {server.url} in {time.perf_counter() - started:.0f}s", flush=True)
            print(
                f"creating {args.runs:,} flow runs of {FLOW}, {tasks} task runs each, "
                f"{WORKERS} at a time …",
                flush=True,
            )
            results["create"] = create_estate(writer, args.runs, tasks)
            last_change = datetime.now(UTC)
            runs = writer.count("/flow_runs/count")
            completed = writer.count(
                "/flow_runs/count",
                {"flow_runs": {"state": {"type": {"any_": ["COMPLETED"]}}}},
            )
            task_runs = writer.count("/task_runs/count")
            tasks_completed = writer.count(
                "/task_runs/count",
                {"task_runs": {"state": {"type": {"any_": ["COMPLETED"]}}}},
            )
            expected = (args.runs, args.runs * tasks)
            if (runs, task_runs) != expected or (completed, tasks_completed) != expected:
                raise RuntimeError(
                    f"Prefect has {runs} flow runs ({completed} completed) and {task_runs} "
                    f"task runs ({tasks_completed} completed), expected {expected[0]} and "
                    f"{expected[1]}, all completed"
                )
            results["estate"] = {
                "runs": runs,
                "task_runs": task_runs,
                "tasks_per_run": tasks,
                "completed_runs": completed,
                "completed_task_runs": tasks_completed,
                "expected_start_spread_h": SPREAD.total_seconds() / 3600,
            }
            # The server runs on this machine: its clock is ours.
            overlap = source_settings(server, [], []).config.overlap  # type: ignore[union-attr]
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
            results["bench"] = bench_prefect(server, runs, task_runs, args.database)
        finally:
            print("stopping the Prefect server …", flush=True)
            writer.close()
            server.stop()

    results["machine"] = results["bench"].pop("machine")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2, default=str))
    print(json.dumps({k: v for k, v in results["bench"].items() if k != "samples"}, indent=2))
    print(report(results))


def report(r: dict[str, Any]) -> str:
    e, c, b, m = r["estate"], r["create"], r["bench"], r["machine"]
    return "\n".join(
        [
            f"Machine: {m['cpu']}, {m['memory']} RAM, Python {m['python']}, {m['database']}. "
            f"Prefect {r['prefect']} server (SQLite) on 127.0.0.1: {e['runs']:,} completed "
            f"flow runs, {e['task_runs']:,} task runs ({e['tasks_per_run']} per run), written "
            f"through its API at {c['create_runs_per_s']:,.1f} runs/s "
            f"({c['create_requests_per_s']:,.0f} requests/s). Medians of {ROUNDS} rounds.",
            "",
            "| measure | Tempox | baseline (same run) | ratio |",
            "|---|---|---|---|",
            f"| first sync, runs/s | {b['tempox_first_sync_runs_per_s']:,.0f} "
            f"({b['tempox_first_sync_s']:.2f}s, {b['tempox_first_sync_requests']:.0f} requests, "
            f"{b['tempox_first_sync_reading_prefect_s']:.2f}s of it reading Prefect) "
            f"| {b['raw_runs_trs_runs_per_s']:,.0f} (raw client: runs + task runs, "
            f"{b['raw_requests_runs_trs']} requests) | {b['ratio_vs_raw_runs_trs']:.2f}x |",
            f"| first sync, runs/s | {b['tempox_first_sync_runs_per_s']:,.0f} "
            f"| {b['raw_runs_only_runs_per_s']:,.0f} (raw client: runs only, "
            f"{b['raw_requests_runs_only']} requests) | {b['ratio_vs_raw_runs_only']:.2f}x |",
            f"| sync with nothing new | {b['no_change_sync_s']:.2f}s, "
            f"{b['no_change_sync_requests']:.0f} requests | | |",
        ]
    )


if __name__ == "__main__":
    main()
