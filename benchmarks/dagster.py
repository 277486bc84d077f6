"""Dagster adapter throughput: a full first sync and a sync with nothing new, on a real Dagster
1.13.27 webserver (``dagster-webserver`` on 127.0.0.1, SQLite backed, from ``tests/peers``),
against paging the same runs through Dagster's GraphQL API with plain ``httpx``, measured in the
same run.

The estate is one job (``bench_job``: three ops in a row, ``extract`` → ``transform`` →
``load``, Dagster's in-process executor) in a code location of its own (``bench_defs``, written
to a temporary folder and loaded by the webserver), with ``--runs`` runs that really executed:
Dagster's ``execute_job`` on the reconstructable job, in one Python process of Dagster's own
venv with ``DAGSTER_HOME`` the webserver's. That is the code path of ``dagster job execute``,
without a new interpreter per run (about 0.2s a run instead of 0.7s): Dagster writes its own run,
event log and compute log storage, so status, times and step stats are what the webserver
reports for any run. Every run succeeds: the steady state of a catalog, where every run read
has finished (failed runs cost the adapter one more request each, for their failure events).

Figures are medians of three rounds; each round pages the raw API (runs only, then runs with
their step stats), syncs into a fresh store and syncs again. Before the rounds the benchmark
waits until the last run it created is older than the adapter's ``overlap`` (``--overlap``,
the adapter's default when not given), so the second sync finds nothing new.
``python -m benchmarks.dagster --runs 1000`` (default) prints a Markdown table and writes JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import tempfile
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from adapters.dagster import DagsterAdapter
from benchmarks.__main__ import database
from benchmarks.machine import describe
from catalog.config import SourceSettings, parse_settings
from catalog.records import Batch, Cursor
from catalog.store import tables as t
from catalog.store.store import Store
from catalog.sync import SyncStatus, sync_source
from tests.peers.dagster import DAGSTER_VERSION, DAGSTER_YAML, REQUIREMENTS, DagsterServer
from tests.peers.processes import Service, free_port, wait_until
from tests.peers.venvs import ensure_venv

HERE = Path(__file__).resolve().parent
MODULE = "bench_defs"
JOB = "bench_job"
OPS = 3
ROUNDS = 3
PAGE = 100  # the adapter's default page_size
DEFS_FILE = '''"""The Dagster benchmark's code location: one job of three ops in a row."""

import dagster as dg


@dg.op
def extract() -> int:
    return 1


@dg.op
def transform(x: int) -> int:
    return x * 10


@dg.op
def load(x: int) -> None:
    print(x)


@dg.job(executor_def=dg.in_process_executor, tags={"team": "bench"})
def bench_job() -> None:
    load(transform(extract()))


defs = dg.Definitions(jobs=[bench_job])
'''
# Runs in Dagster's venv, DAGSTER_HOME the webserver's: argv[1] is the folder of bench_defs,
# argv[2] the number of runs. ``execute_job`` is what ``dagster job execute`` calls.
ESTATE = """\
import sys, time
sys.path.insert(0, sys.argv[1])
import dagster as dg
from bench_defs import bench_job

runs = int(sys.argv[2])
instance = dg.DagsterInstance.get()
job = dg.reconstructable(bench_job)
config = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}
step = max(1, runs // 10)
start = time.perf_counter()
for i in range(runs):
    tags = {"bench": "tempox", "i": str(i)}
    with dg.execute_job(job, instance=instance, run_config=config, tags=tags) as result:
        if not result.success:
            raise SystemExit(f"run {result.run_id} failed")
    if (i + 1) % step == 0 or i + 1 == runs:
        print(f"PROGRESS {i + 1} {time.perf_counter() - start:.3f}", flush=True)
"""
STEP_FIELDS = " stepStats { stepKey status startTime endTime attempts { startTime endTime } }"
RAW_RUNS = """
query RawRuns($cursor: String, $limit: Int) {
  runsOrError(cursor: $cursor, limit: $limit) {
    __typename
    ... on Runs {
      results { runId status jobName creationTime startTime endTime updateTime%s }
    }
    ... on PythonError { message }
  }
}
"""


# -- the server and the estate ------------------------------------------------------------------


def start_server(home: Path, defs: Path) -> DagsterServer:
    """``DagsterServer.start``, loading the benchmark's code location instead of the tests'."""
    bin_ = ensure_venv("dagster", REQUIREMENTS)
    home = home.resolve()  # DAGSTER_HOME must be absolute
    server = DagsterServer(home=home, port=free_port(), bin=bin_)
    (home / "logs").mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(DAGSTER_YAML)
    argv = [
        str(bin_ / "dagster-webserver"),
        *("-h", "127.0.0.1", "-p", str(server.port), "-m", MODULE, "-d", str(defs)),
    ]

    def healthy() -> bool:
        return httpx.get(f"{server.root}/server_info", timeout=5).status_code == 200

    try:
        service = Service("dagster-webserver", argv, server.env(), home / "logs", defs)
        server.services.append(service)
        wait_until("the Dagster webserver to answer", healthy, 180, server.services)
    except BaseException:
        server.stop()
        raise
    return server


def create_estate(server: DagsterServer, defs: Path, runs: int) -> dict[str, Any]:
    """``runs`` executed runs of the job, one after the other, in one process of Dagster's
    venv; its progress lines echoed as they come."""
    argv = [str(server.bin / "python"), "-c", ESTATE, str(defs), str(runs)]
    tail: deque[str] = deque(maxlen=40)
    start = time.perf_counter()
    with subprocess.Popen(
        argv,
        env=server.env(),
        cwd=defs,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith("PROGRESS "):
                done, spent = int(line.split()[1]), float(line.split()[2])
                print(f"  executed {done:,}/{runs:,} runs, {done / spent:,.1f}/s", flush=True)
            else:
                tail.append(line.rstrip())
        code = process.wait()
    if code != 0:
        raise RuntimeError(f"creating the estate failed ({code}):\n" + "\n".join(tail))
    spent = time.perf_counter() - start
    return {"create_s": spent, "create_runs_per_s": runs / spent}


# -- the baseline: the raw GraphQL API through plain httpx --------------------------------------


class RawApi:
    """``runsOrError`` paged by hand, 100 runs at a time by run id cursor (as the adapter
    pages): no Tempox code on this path."""

    def __init__(self, server: DagsterServer) -> None:
        self.http = httpx.Client(timeout=120)
        self.url = server.url
        self.requests = 0

    def read_runs(self, steps: bool) -> list[dict[str, Any]]:
        document = RAW_RUNS % (STEP_FIELDS if steps else "")
        out: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            self.requests += 1
            body = {"query": document, "variables": {"cursor": cursor, "limit": PAGE}}
            r = self.http.post(self.url, json=body)
            r.raise_for_status()
            answer = r.json()
            if answer.get("errors"):
                raise RuntimeError(f"runsOrError failed: {answer['errors']}")
            found = answer["data"]["runsOrError"]
            if found["__typename"] != "Runs":
                raise RuntimeError(f"runsOrError failed: {found}")
            page: list[dict[str, Any]] = found["results"]
            out += page
            if len(page) < PAGE:
                return out
            cursor = page[-1]["runId"]

    def close(self) -> None:
        self.http.close()


def check_estate(runs: list[dict[str, Any]], expected: int) -> dict[str, Any]:
    """That the webserver lists ``expected`` successful runs of the job, each with its three
    successful steps, timed."""
    problems: list[str] = []
    if len(runs) != expected:
        problems.append(f"{len(runs)} runs, not {expected}")
    for r in runs:
        steps = r["stepStats"]
        timed = all(s["startTime"] and s["endTime"] and len(s["attempts"]) == 1 for s in steps)
        if (
            r["status"] != "SUCCESS"
            or r["jobName"] != JOB
            or not (r["startTime"] and r["endTime"])
            or len(steps) != OPS
            or any(s["status"] != "SUCCESS" for s in steps)
            or not timed
        ):
            problems.append(f"run {r['runId']}: {json.dumps(r)[:300]}")
            break
    if problems:
        raise RuntimeError("the estate is not as expected: " + "; ".join(problems))
    steps = sum(len(r["stepStats"]) for r in runs)
    durations = sorted(r["endTime"] - r["startTime"] for r in runs)
    return {
        "runs": len(runs),
        "steps": steps,
        "ops_per_run": OPS,
        "successful_runs": sum(r["status"] == "SUCCESS" for r in runs),
        "median_run_s": durations[len(durations) // 2],
        "first_created": datetime.fromtimestamp(min(r["creationTime"] for r in runs), UTC),
        "last_updated": datetime.fromtimestamp(max(r["updateTime"] for r in runs), UTC),
    }


# -- Tempox ---------------------------------------------------------------------------------------


def source_settings(
    server: DagsterServer, requests: list[int], reading: list[float], overlap: str | None
) -> SourceSettings:
    """The ``[sources.dagster]`` table a user would write, its adapter counting requests and
    the time spent reading Dagster (the rest of a sync is the store's).

    The count is the adapter's own (``DagsterSession.requests``), read when the sync engine
    closes the adapter; the sync itself is the engine's, leases and all.
    """

    class CountingDagsterAdapter(DagsterAdapter):
        reading = 0.0  # seconds spent inside fetch: HTTP, JSON, mapping

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

    table: dict[str, Any] = {"kind": "dagster", "url": server.root}
    if overlap is not None:
        table["overlap"] = overlap
    settings = parse_settings({"sources": {"dagster": table}}, file="benchmark")
    return replace(settings.sources["dagster"], adapter=CountingDagsterAdapter)


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


def bench_dagster(
    server: DagsterServer, runs: int, steps: int, kind: str, overlap: str | None
) -> dict[str, Any]:
    """Median of ``ROUNDS`` rounds of: raw runs, raw runs + step stats, Tempox first sync into
    a fresh store, Tempox sync with nothing new."""
    samples: dict[str, list[float]] = {
        "raw_runs_s": [],
        "raw_runs_steps_s": [],
        "first_sync_s": [],
        "first_sync_requests": [],
        "first_sync_reading_s": [],
        "second_sync_s": [],
        "second_sync_requests": [],
        "second_sync_reading_s": [],
    }
    requests: list[int] = []
    reading: list[float] = []
    source = source_settings(server, requests, reading, overlap)
    raw = RawApi(server)
    out: dict[str, Any] = {}
    try:
        for n in range(ROUNDS):
            start, asked = time.perf_counter(), raw.requests
            got = len(raw.read_runs(steps=False))
            samples["raw_runs_s"].append(time.perf_counter() - start)
            out["raw_requests_runs_only"] = raw.requests - asked
            assert got == runs, f"the raw API listed {got} runs, not {runs}"
            start, asked = time.perf_counter(), raw.requests
            listed = raw.read_runs(steps=True)
            samples["raw_runs_steps_s"].append(time.perf_counter() - start)
            out["raw_requests_runs_steps"] = raw.requests - asked
            got = len(listed) + sum(len(r["stepStats"]) for r in listed)
            assert got == runs + steps, f"the raw API listed {got} runs and steps"
            with database(kind, "dagster") as url:
                store = Store(url)
                try:
                    if n == 0:
                        out["machine"] = describe(store.engine)
                    first = timed_sync(store, source, requests, reading)
                    found = stored(store)
                    if found != (runs, steps):
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
                f"raw runs+steps {samples['raw_runs_steps_s'][-1]:.2f}s, "
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
        "raw_runs_steps_runs_per_s": runs / med["raw_runs_steps_s"],
        "tempox_first_sync_s": med["first_sync_s"],
        "tempox_first_sync_runs_per_s": runs / med["first_sync_s"],
        "tempox_first_sync_requests": med["first_sync_requests"],
        "tempox_first_sync_reading_dagster_s": med["first_sync_reading_s"],
        "ratio_vs_raw_runs_steps": (runs / med["first_sync_s"]) / (runs / med["raw_runs_steps_s"]),
        "ratio_vs_raw_runs_only": (runs / med["first_sync_s"]) / (runs / med["raw_runs_s"]),
        "no_change_sync_s": med["second_sync_s"],
        "no_change_sync_requests": med["second_sync_requests"],
        "no_change_sync_reading_dagster_s": med["second_sync_reading_s"],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.dagster", description=__doc__)
    parser.add_argument("--runs", type=int, default=1000, help="runs to execute (1000)")
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument(
        "--overlap",
        help="the source's overlap (e.g. 30s), to wait less before measuring; the adapter's "
        "default (2m) when not given",
    )
    parser.add_argument("--output", type=Path, default=HERE / "results" / "dagster.json")
    args = parser.parse_args(argv)

    results: dict[str, Any] = {
        "dagster": DAGSTER_VERSION,
        "database_kind": args.database,
        "overlap": args.overlap,
    }
    with tempfile.TemporaryDirectory(prefix="tempox-bench-dagster-") as tmp:
        defs = Path(tmp) / "defs"
        defs.mkdir()
        (defs / f"{MODULE}.py").write_text(DEFS_FILE)
        print("starting the Dagster webserver …", flush=True)
        started = time.perf_counter()
        server = start_server(Path(tmp) / "home", defs)
        try:
            print(f"  up at {server.root} in {time.perf_counter() - started:.0f}s", flush=True)
            print(f"executing {args.runs:,} runs of {JOB} ({OPS} ops each) …", flush=True)
            results["create"] = create_estate(server, defs, args.runs)
            last_change = datetime.now(UTC)
            raw = RawApi(server)
            try:
                results["estate"] = check_estate(raw.read_runs(steps=True), args.runs)
            finally:
                raw.close()
            runs, steps = results["estate"]["runs"], results["estate"]["steps"]
            # The server runs on this machine: its clock is ours.
            config = source_settings(server, [], [], args.overlap).config
            overlap: timedelta = config.overlap  # type: ignore[union-attr]
            results["overlap_s"] = overlap.total_seconds()
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
            results["bench"] = bench_dagster(server, runs, steps, args.database, args.overlap)
        finally:
            print("stopping the Dagster webserver …", flush=True)
            server.stop()

    results["machine"] = results["bench"].pop("machine")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2, default=str))
    print(json.dumps({k: v for k, v in results["bench"].items() if k != "samples"}, indent=2))
    print(report(results))


def report(r: dict[str, Any]) -> str:
    e, c, b, m = r["estate"], r["create"], r["bench"], r["machine"]
    overlap = f"overlap {r['overlap']}" if r.get("overlap") else "default overlap"
    return "\n".join(
        [
            f"Machine: {m['cpu']}, {m['memory']} RAM, Python {m['python']}, {m['database']}. "
            f"Dagster {r['dagster']} webserver (SQLite) on 127.0.0.1: {e['runs']:,} successful "
            f"runs of a {e['ops_per_run']}-op job, {e['steps']:,} steps, executed by Dagster's "
            f"`execute_job` at {c['create_runs_per_s']:,.1f} runs/s. Source with {overlap}. "
            f"Medians of {ROUNDS} rounds.",
            "",
            "| measure | Tempox | baseline (same run) | ratio |",
            "|---|---|---|---|",
            f"| first sync, runs/s | {b['tempox_first_sync_runs_per_s']:,.0f} "
            f"({b['tempox_first_sync_s']:.2f}s, {b['tempox_first_sync_requests']:.0f} requests, "
            f"{b['tempox_first_sync_reading_dagster_s']:.2f}s of it reading Dagster) "
            f"| {b['raw_runs_steps_runs_per_s']:,.0f} (raw GraphQL: runs + step stats, "
            f"{b['raw_requests_runs_steps']} requests) | {b['ratio_vs_raw_runs_steps']:.2f}x |",
            f"| first sync, runs/s | {b['tempox_first_sync_runs_per_s']:,.0f} "
            f"| {b['raw_runs_only_runs_per_s']:,.0f} (raw GraphQL: runs only, "
            f"{b['raw_requests_runs_only']} requests) | {b['ratio_vs_raw_runs_only']:.2f}x |",
            f"| sync with nothing new | {b['no_change_sync_s']:.2f}s, "
            f"{b['no_change_sync_requests']:.0f} requests | | |",
        ]
    )


if __name__ == "__main__":
    main()
