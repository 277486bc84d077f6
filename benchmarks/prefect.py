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
their task runs), syncs into a fresh store and syncs again (``benchmarks.adapter_rounds``,
shared by the adapter benchmarks). Before the rounds the benchmark waits until the last run it
created is older than the adapter's ``overlap``, so the second sync finds nothing new rather
than the last two minutes of the estate's creation.
``python -m benchmarks.prefect --runs 1000`` (default) prints a Markdown table and writes JSON.
"""

from __future__ import annotations

import argparse
import hashlib
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
from prefect.client.orchestration import SyncPrefectClient
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from prefect.client.schemas.sorting import FlowRunSort, TaskRunSort

from adapters.prefect.adapter import FLOW_RUN_IDS_PER_QUERY
from benchmarks.adapter_rounds import ROUNDS, bench_rounds, overlap_of, save, settle, table
from catalog.config import SourceSettings, parse_settings
from tests.peers.prefect import PREFECT_VERSION, PrefectServer

HERE = Path(__file__).resolve().parent
FLOW = "bench-flow"
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


def create_run(
    writer: Writer, flow_id: str, i: int, expected: datetime, tasks: int, failed: bool = False
) -> None:
    """Flow run ``i``: SCHEDULED at ``expected``, RUNNING, ``tasks`` task runs in a chain (each
    RUNNING, then COMPLETED, fed by the one before; the last FAILED when the run fails), then
    COMPLETED or FAILED."""
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
        last_failed = failed and step == tasks - 1
        writer.set_state("task_runs", task_run["id"], "FAILED" if last_failed else "COMPLETED")
        previous = task_run["id"]
    writer.set_state("flow_runs", run["id"], "FAILED" if failed else "COMPLETED")


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

    def read_runs_and_task_runs(self) -> int:
        ids = self.read_runs()
        return len(ids) + self.read_task_runs(ids)

    def close(self) -> None:
        self.client.__exit__(None, None, None)


# -- Tempox ---------------------------------------------------------------------------------------


def source_settings(server: PrefectServer) -> SourceSettings:
    """The ``[sources.prefect]`` table a user would write."""
    table = {"kind": "prefect", "api_url": server.url}
    return parse_settings({"sources": {"prefect": table}}, file="benchmark").sources["prefect"]


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
            source = source_settings(server)
            results["settled_s"] = settle(last_change, overlap_of(source))
            raw = RawApi(server)
            try:
                results["bench"] = bench_rounds(
                    label="prefect",
                    source=source,
                    raw_runs=lambda: len(raw.read_runs()),
                    raw_runs_and_tasks=raw.read_runs_and_task_runs,
                    raw_requests=lambda: raw.requests,
                    runs=runs,
                    task_runs=task_runs,
                    kind=args.database,
                )
            finally:
                raw.close()
        finally:
            print("stopping the Prefect server …", flush=True)
            writer.close()
            server.stop()

    save(results, args.output)
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
            *table(b, reading="Prefect", raw="raw client", with_tasks="runs + task runs"),
        ]
    )


if __name__ == "__main__":
    main()
