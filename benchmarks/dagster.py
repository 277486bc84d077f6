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
their step stats), syncs into a fresh store and syncs again (``benchmarks.adapter_rounds``,
shared by the adapter benchmarks). Before the rounds the benchmark waits until the last run it
created is older than the adapter's ``overlap`` (``--overlap``, the adapter's default when not
given), so the second sync finds nothing new.
``python -m benchmarks.dagster --runs 1000`` (default) prints a Markdown table and writes JSON.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
from collections import deque
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from benchmarks.adapter_rounds import ROUNDS, bench_rounds, overlap_of, save, settle, table
from catalog.config import SourceSettings, parse_settings
from tests.peers.dagster import DAGSTER_VERSION, DagsterServer

HERE = Path(__file__).resolve().parent
MODULE = "bench_defs"
JOB = "bench_job"
OPS = 3
PAGE = 100  # the adapter's default page_size
DEFS_FILE = '''"""The benchmark's code location: three ops in a row, the last one failing
when the run is tagged fail=1."""

import dagster as dg


@dg.op
def extract() -> int:
    return 1


@dg.op
def transform(x: int) -> int:
    return x * 10


@dg.op
def load(context: dg.OpExecutionContext, x: int) -> None:
    if context.run.tags.get("fail") == "1":
        raise RuntimeError(f"load failed on purpose ({x})")


@dg.job(executor_def=dg.in_process_executor, tags={"team": "bench"})
def bench_job() -> None:
    load(transform(extract()))


defs = dg.Definitions(jobs=[bench_job])
'''
# Runs in Dagster's venv, DAGSTER_HOME the webserver's: argv[1] the folder of bench_defs,
# argv[2] the number of runs, argv[3] every how many runs one fails (0: none).
ESTATE = """\
import sys, time
sys.path.insert(0, sys.argv[1])
import dagster as dg
from bench_defs import bench_job

runs, every = int(sys.argv[2]), int(sys.argv[3])
instance = dg.DagsterInstance.get()
job = dg.reconstructable(bench_job)
config = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
step = max(1, runs // 5)
start = time.perf_counter()
for i in range(runs):
    fail = every > 0 and i % every == every - 1
    tags = {"bench": "tempox", "i": str(i), "fail": "1" if fail else "0"}
    with dg.execute_job(job, instance=instance, run_config=config, tags=tags) as result:
        if result.success == fail:
            raise SystemExit(f"run {result.run_id}: success={result.success}, fail={fail}")
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
    return DagsterServer.start(home, defs, MODULE)


def create_estate(server: DagsterServer, defs: Path, runs: int, every: int = 0) -> dict[str, Any]:
    """``runs`` executed runs of the job, one after the other, in one process of Dagster's
    venv (with ``every``, one in that many fails); its progress lines echoed as they come."""
    argv = [str(server.bin / "python"), "-c", ESTATE, str(defs), str(runs), str(every)]
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

    def read_runs_and_steps(self) -> int:
        listed = self.read_runs(steps=True)
        return len(listed) + sum(len(r["stepStats"]) for r in listed)

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


def source_settings(server: DagsterServer, overlap: str | None) -> SourceSettings:
    """The ``[sources.dagster]`` table a user would write (``overlap`` the adapter's default
    when None)."""
    table: dict[str, Any] = {"kind": "dagster", "url": server.root}
    if overlap is not None:
        table["overlap"] = overlap
    return parse_settings({"sources": {"dagster": table}}, file="benchmark").sources["dagster"]


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
            source = source_settings(server, args.overlap)
            overlap = overlap_of(source)
            results["overlap_s"] = overlap.total_seconds()
            results["settled_s"] = settle(last_change, overlap)
            raw = RawApi(server)
            try:
                results["bench"] = bench_rounds(
                    label="dagster",
                    source=source,
                    raw_runs=lambda: len(raw.read_runs(steps=False)),
                    raw_runs_and_tasks=raw.read_runs_and_steps,
                    raw_requests=lambda: raw.requests,
                    runs=runs,
                    task_runs=steps,
                    kind=args.database,
                    tasks_word="steps",
                )
            finally:
                raw.close()
        finally:
            print("stopping the Dagster webserver …", flush=True)
            server.stop()

    save(results, args.output)
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
            *table(b, reading="Dagster", raw="raw GraphQL", with_tasks="runs + step stats"),
        ]
    )


if __name__ == "__main__":
    main()
