"""Load test: many concurrent clients against one real server, on SQLite and on PostgreSQL.

``python -m benchmarks.load [--seconds 60] [--connections 200] [--database sqlite|postgres|both]``

A uvicorn process (one worker, 127.0.0.1, a free port) serves :func:`api.app.create_app` with
its default ``[limits]`` over a modest estate from the ``synthetic`` adapter (300 pipelines x 20
runs x 5 tasks by default). ``wrk`` (Debian's; installed with apt-get when missing and run as
root) keeps ``--connections`` connections busy for ``--seconds``, one connection per wrk
thread, each sending the next request as soon as the last is answered, drawn at random from
the mix (:data:`MIX`):

- ``cached``: the same ``Runs`` query (first 50), answered from the response cache until a
  commit (an OpenLineage post, here) moves the data version;
- ``runs_varied``: ``Runs`` since a random second of the estate's span, first 1-200 at
  random: a new cache key each time;
- ``failed_runs``: ``FailedRuns`` (the last seven days) with a random ``first`` (1-100): it
  reads the clock, so it is never cached;
- ``lineage``: ``POST /api/v1/lineage``, one OpenLineage RunEvent (a new run's START, then its
  COMPLETE with an input and an output), each written in its own transaction.

A client answered 503 (the query queue is full: the designed back-pressure) waits out
``Retry-After`` before its next request, as a polite client does (``--no-retry-after``: it asks
again at once; ``--mix`` sets other shares, ``--mix cached=100`` say). Latencies are timed per
request by the wrk script (benchmarks/load.lua), so every kind has its own p50/p99.
``/healthz`` is sampled ten times a second during the load, and the server's peak RSS read
from ``/proc``. Results go to ``benchmarks/results/load.json``, the server's log beside it.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import platform
import re
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text

from tests.peers.debian import ensure_program

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
LUA = HERE / "load.lua"
OPERATIONS = ROOT / "graphql" / "operations"

# Kind → share of requests, in percent. The order is the Lua script's (kinds 1 to 4).
MIX = {"cached": 60, "runs_varied": 15, "failed_runs": 15, "lineage": 10}
FIRST_SENTINEL = 987654321  # replaced by a random `first` in each request (load.lua)

DB_URL_ENV = "TEMPOX_LOAD_DATABASE_URL"
STATS_ENV = "TEMPOX_LOAD_STATS"


# -- the server's side (runs in the uvicorn process) ----------------------------------------


def server_app() -> Any:
    """The app uvicorn serves (``benchmarks.load:server_app --factory``): ``create_app`` over
    the estate at ``$TEMPOX_LOAD_DATABASE_URL``, open (no auth), default limits. On shutdown it
    writes the response cache's hits and misses to ``$TEMPOX_LOAD_STATS``."""
    from api.app import create_app
    from catalog.config import LimitSettings
    from catalog.service import Catalog
    from catalog.store.store import Store

    store = Store(os.environ[DB_URL_ENV])
    holder: dict[str, Any] = {}

    async def report_on_shutdown() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            graphql = next(
                r.endpoint for r in holder["app"].routes if getattr(r, "path", "") == "/graphql"
            )
            cache = graphql.cache
            stats = {
                "cache_hits": cache.hits if cache else 0,
                "cache_misses": cache.misses if cache else 0,
                "cache_bytes": cache.size if cache else 0,
                "ru_maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            }
            Path(os.environ[STATS_ENV]).write_text(json.dumps(stats))

    app = create_app(
        catalog=Catalog(store),
        auth=None,
        limits=LimitSettings(),
        lifespan_tasks=[report_on_shutdown],
    )
    holder["app"] = app
    return app


# -- the estate -----------------------------------------------------------------------------


def estate_config(pipelines: int, runs_per_pipeline: int) -> dict[str, Any]:
    """The synthetic estate, its runs ending about now (so ``failedRuns`` of the last seven
    days finds some: the daily pipelines' last week)."""
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return {
        "pipelines": pipelines,
        "runs_per_pipeline": runs_per_pipeline,
        "tasks_per_pipeline": 5,
        "assets": max(100, pipelines * 3),
        "seed": 42,
        "batch_size": 500,
        "outputs_per_task_run": 1,
        "start": today - timedelta(days=runs_per_pipeline),
    }


def load_estate(url: str, config: dict[str, Any]) -> dict[str, Any]:
    from adapters.synthetic import SyntheticAdapter
    from benchmarks.ingest import ingest
    from benchmarks.machine import describe
    from catalog.store.store import Store

    adapter = SyntheticAdapter("synthetic", SyntheticAdapter.config_class(**config))
    store = Store(url)
    try:
        started = time.perf_counter()
        _, records = ingest(store, adapter.fetch(None))
        with store.engine.connect() as conn:
            runs = conn.execute(text("SELECT count(*) FROM run")).scalar_one()
            task_runs = conn.execute(text("SELECT count(*) FROM task_run")).scalar_one()
        return {
            "records": records,
            "runs": runs,
            "task_runs": task_runs,
            "load_s": round(time.perf_counter() - started, 1),
            "machine": describe(store.engine),
        }
    finally:
        store.close()


# -- the requests ---------------------------------------------------------------------------


def write_bodies(folder: Path) -> None:
    """The request bodies load.lua sends, with the placeholders it fills in."""

    def graphql(name: str, variables: dict[str, Any]) -> str:
        document = (OPERATIONS / f"{name}.graphql").read_text()
        return json.dumps({"query": document, "variables": variables, "operationName": name})

    (folder / "cached.json").write_text(graphql("Runs", {"first": 50}))
    runs = {"first": FIRST_SENTINEL, "filter": {"since": "__SINCE__"}}
    (folder / "runs.json").write_text(graphql("Runs", runs))
    (folder / "failed_runs.json").write_text(graphql("FailedRuns", {"first": FIRST_SENTINEL}))
    for kind in ("START", "COMPLETE"):
        event: dict[str, Any] = {
            "eventType": kind,
            "eventTime": "__TIME__",
            "producer": "https://example.com/tempox-load",
            "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
            "run": {"runId": "__RUN__", "facets": {}},
            "job": {"namespace": "load", "name": "job__JOB__"},
        }
        if kind == "COMPLETE":
            event["inputs"] = [{"namespace": "s3://lake", "name": "load/in__JOB__"}]
            event["outputs"] = [{"namespace": "s3://lake", "name": "load/out__JOB__"}]
        (folder / f"lineage_{kind.lower()}.json").write_text(json.dumps(event))


def check_bodies(folder: Path, base: str) -> None:
    """Each kind once, as load.lua fills it in: 2xx and no GraphQL errors, or we stop here."""
    sample = {
        "cached.json": "/graphql",
        "runs.json": "/graphql",
        "failed_runs.json": "/graphql",
        "lineage_start.json": "/api/v1/lineage",
        "lineage_complete.json": "/api/v1/lineage",
    }
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    for name, path in sample.items():
        body = (
            (folder / name)
            .read_text()
            .replace(str(FIRST_SENTINEL), "20")
            .replace("__RUN__", "00000000-0000-4000-8000-000000000001")
            .replace("__JOB__", "0")
            .replace("__TIME__", now)
            .replace("__SINCE__", now)
        )
        status, answer = _post(base, path, body.encode())
        if status >= 300 or b'"errors"' in answer:
            raise RuntimeError(f"{name} → {path}: HTTP {status}: {answer[:500]!r}")


def _post(base: str, path: str, body: bytes) -> tuple[int, bytes]:
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    try:
        conn.request("POST", path, body, {"Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


# -- the load generator ---------------------------------------------------------------------


def ensure_wrk() -> str:
    """wrk's path; installed from Debian with apt-get when missing (as root), else an error
    naming the command."""
    return ensure_program("wrk", "wrk", needed_by="the load test")


def wrk_version(wrk: str) -> str:
    out = subprocess.run([wrk, "-v"], capture_output=True, text=True, check=False).stdout
    match = re.search(r"wrk (\S+)", out)
    return match.group(1) if match else "?"


# -- the server process ---------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _proc_status(pid: int, key: str) -> int:
    """A ``/proc/<pid>/status`` figure in KiB (VmRSS, VmHWM); 0 when unreadable."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{key}:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a process, all its threads, so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Server:
    url: str
    log: Path
    stats: Path
    process: subprocess.Popen[bytes] | None = None
    base: str = ""
    app: str = "benchmarks.load:server_app"  # a factory uvicorn calls
    env: dict[str, str] | None = None

    def start(self) -> None:
        port = _free_port()
        self.base = f"http://127.0.0.1:{port}"
        env = {**os.environ, DB_URL_ENV: self.url, STATS_ENV: str(self.stats), **(self.env or {})}
        # No access log (`tempox serve` keeps one at info): the app is measured, not logging.
        command = [
            *(sys.executable, "-m", "uvicorn", self.app, "--factory"),
            *("--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"),
            "--no-access-log",
        ]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited: {self.log.read_text()[-2000:]}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    conn.close()
                    return
                conn.close()
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"the server did not answer /healthz: {self.log.read_text()[-2000:]}")

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def stop(self) -> dict[str, Any]:
        """Stops the server (SIGTERM: uvicorn's graceful shutdown); what it reported."""
        if self.process is None:
            return {}
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        self.process = None
        try:
            return dict(json.loads(self.stats.read_text()))
        except (OSError, ValueError):
            return {}


class HealthProbe(threading.Thread):
    """GET /healthz every ``interval`` seconds on one kept-alive connection."""

    def __init__(self, base: str, interval: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.base = base
        self.interval = interval
        self.samples: list[float] = []
        self.statuses: Counter[str] = Counter()
        self.halt = threading.Event()

    def run(self) -> None:
        host, port = self.base.removeprefix("http://").split(":")
        conn: http.client.HTTPConnection | None = None
        while not self.halt.wait(self.interval):
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(host, int(port), timeout=30)
                started = time.perf_counter()
                conn.request("GET", "/healthz")
                response = conn.getresponse()
                response.read()
                self.samples.append(time.perf_counter() - started)
                self.statuses[str(response.status)] += 1
            except (OSError, http.client.HTTPException) as exc:
                self.statuses[type(exc).__name__] += 1
                if conn is not None:
                    conn.close()
                conn = None
        if conn is not None:
            conn.close()


# -- one run --------------------------------------------------------------------------------


@contextmanager
def _database(kind: str) -> Iterator[str]:
    from benchmarks.__main__ import database  # a SQLite file, or a fresh PostgreSQL schema

    with database(kind, "load") as url:
        yield url


def bench_load(
    database: str,
    *,
    seconds: int,
    connections: int,
    pipelines: int,
    runs_per_pipeline: int,
    mix: dict[str, int] | None = None,
    retry_after: bool = True,
    log_folder: Path | None = None,
) -> dict[str, Any]:
    """One load run on ``database`` ("sqlite" or "postgres"): its figures."""
    mix = dict(mix or MIX)
    wrk = ensure_wrk()
    config = estate_config(pipelines, runs_per_pipeline)
    with _database(database) as url, tempfile.TemporaryDirectory(prefix="tempox-load-") as tmp:
        folder = Path(tmp)
        print(f"[{database}] loading the estate ({pipelines} pipelines x {runs_per_pipeline} runs)")
        estate = load_estate(url, config)
        write_bodies(folder)
        log = (log_folder or folder) / f"load-{database}-server.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        server = Server(url, log, folder / "server-stats.json")
        try:
            server.start()
            check_bodies(folder, server.base)
            rss_before = _proc_status(server.pid, "VmRSS")
            probe = HealthProbe(server.base)
            weights = [mix.get(kind, 0) for kind in MIX]
            cumulative = ",".join(str(sum(weights[: i + 1])) for i in range(len(weights)))
            seed = time.time_ns() % 1_000_000
            command = [
                wrk,
                *("--threads", str(connections), "--connections", str(connections)),
                *("--duration", f"{seconds}s", "--timeout", "30s"),
                *("--script", str(LUA), f"{server.base}/graphql", "--"),
                *(str(folder), cumulative, "1" if retry_after else "0", str(seed)),
                *(str(int(config["start"].timestamp())), str(int(time.time()))),
            ]
            print(f"[{database}] wrk: {connections} connections for {seconds} s …", flush=True)
            loadavg_before = os.getloadavg()[0]
            cpu_before = _cpu_seconds(server.pid)
            children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
            probe.start()
            started = time.perf_counter()
            done = subprocess.run(
                command,
                env={**os.environ, "TEMPOX_LOAD_FOLDER": str(folder)},
                capture_output=True,
                text=True,
                check=False,
                timeout=seconds + 120,
            )
            wall = time.perf_counter() - started
            probe.halt.set()
            probe.join(35)
            children = resource.getrusage(resource.RUSAGE_CHILDREN)
            server_cpu = _cpu_seconds(server.pid) - cpu_before
            peak_rss = _proc_status(server.pid, "VmHWM")
            rss_after = _proc_status(server.pid, "VmRSS")
            if done.returncode != 0 or not (folder / "summary.json").exists():
                raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr[-2000:]}")
        finally:
            server_stats = server.stop()
        summary = json.loads((folder / "summary.json").read_text())
        samples = (folder / "samples.tsv").read_text()
        server_log = log.read_text(errors="replace")
    duration = summary["duration_us"] / 1e6
    wrk_cpu = (children.ru_utime - children_before.ru_utime) + (
        children.ru_stime - children_before.ru_stime
    )
    return {
        "database": database,
        "machine": {**estate.pop("machine"), "wrk": wrk_version(wrk)},
        "loadavg_before": loadavg_before,
        "estate": {**config, **estate, "start": config["start"].isoformat()},
        "connections": connections,
        "seconds": duration,
        "mix_percent": mix,
        "retry_after_honoured": retry_after,
        "kinds": summarise(samples, duration),
        "socket_errors": {k: summary[k] for k in ("connect", "read", "write", "timeout")},
        "wrk": {
            "requests": summary["requests"],
            "non_2xx_3xx": summary["status"],
            "p50_ms_corrected": summary["wrk_p50_us"] / 1000,
            "p99_ms_corrected": summary["wrk_p99_us"] / 1000,
            "retry_after_waits": summary["retry_after_waits"],
            "cpu_s": round(wrk_cpu, 1),
            "wall_s": round(wall, 1),
        },
        "healthz": {
            **_latencies([s * 1e6 for s in probe.samples]),
            "statuses": dict(probe.statuses),
        },
        "server": {
            "rss_mib_before": round(rss_before / 1024, 1),
            "rss_mib_after": round(rss_after / 1024, 1),
            "peak_rss_mib": round(peak_rss / 1024, 1),
            "cpu_s": round(server_cpu, 1),
            "cpu_cores_used": round(server_cpu / duration, 2),
            **server_stats,
            "log_errors": len(re.findall(r"^(?:ERROR|Traceback)", server_log, re.MULTILINE)),
            "log": str(log) if log_folder else None,
        },
    }


def _percentile(ordered: list[float], p: float) -> float:
    if not ordered:
        return 0.0
    rank = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def _latencies(micros: list[float]) -> dict[str, float]:
    ordered = sorted(micros)
    return {
        "count": len(ordered),
        "p50_ms": round(_percentile(ordered, 50) / 1000, 2),
        "p99_ms": round(_percentile(ordered, 99) / 1000, 2),
        "max_ms": round((ordered[-1] if ordered else 0) / 1000, 2),
    }


def summarise(samples: str, duration: float) -> dict[str, Any]:
    """Per kind and in total: responses, their rates, statuses, latencies (answered: 2xx
    without GraphQL errors; all: every response, 503s included)."""
    names = [*MIX, "total"]
    statuses: dict[str, Counter[str]] = {k: Counter() for k in names}
    answered: dict[str, list[float]] = {k: [] for k in names}
    everything: dict[str, list[float]] = {k: [] for k in names}
    graphql_errors: Counter[str] = Counter()
    kinds = list(MIX)
    for line in samples.splitlines():
        kind_index, status, micros, errored = line.split("\t")
        kind = kinds[int(kind_index) - 1]
        for name in (kind, "total"):
            statuses[name][status] += 1
            everything[name].append(float(micros))
            if status.startswith("2") and errored == "0":
                answered[name].append(float(micros))
            elif errored == "1":
                graphql_errors[name] += 1
    out: dict[str, Any] = {}
    for name in names:
        count = sum(statuses[name].values())
        out[name] = {
            "responses": count,
            "per_s": round(count / duration, 1),
            "answered": len(answered[name]),
            "answered_per_s": round(len(answered[name]) / duration, 1),
            "statuses": dict(sorted(statuses[name].items())),
            "graphql_errors": graphql_errors[name],
            "answered_latency": _latencies(answered[name]),
            "all_latency": _latencies(everything[name]),
        }
    return out


# -- the report -----------------------------------------------------------------------------


def report(runs: list[dict[str, Any]]) -> str:
    lines: list[str] = []
    for r in runs:
        m, e, s, h = r["machine"], r["estate"], r["server"], r["healthz"]
        socket_errors = ", ".join(f"{k} {v}" for k, v in r["socket_errors"].items())
        cached = r["kinds"]["cached"]["responses"]
        hits = s.get("cache_hits", 0)
        hit_rate = f"{min(hits, cached) / cached:.0%}" if cached else "n/a"
        lines += [
            f"### {m['database']}: {r['connections']} connections, {r['seconds']:.0f} s",
            "",
            f"{m['cpu']}, {m['memory']} RAM, Python {m['python']}, wrk {m['wrk']}; load "
            f"average {r['loadavg_before']:.2f} before. Estate: {e['pipelines']} pipelines, "
            f"{e['runs']:,} runs, {e['task_runs']:,} task runs. Mix: "
            + ", ".join(f"{k} {v}%" for k, v in r["mix_percent"].items() if v)
            + (", 503s wait out Retry-After." if r["retry_after_honoured"] else "."),
            "",
            "| kind | responses/s | answered/s | p50 ms | p99 ms | max ms | non-2xx |",
            "|---|---|---|---|---|---|---|",
        ]
        for name, k in r["kinds"].items():
            if name != "total" and not r["mix_percent"].get(name):
                continue
            lat = k["answered_latency"]
            refused = {c: n for c, n in k["statuses"].items() if not c.startswith("2")}
            if k["graphql_errors"]:
                refused["GraphQL errors"] = k["graphql_errors"]
            shown = ", ".join(f"{c}: {n:,}" for c, n in refused.items()) or "none"
            label = f"**{name}**" if name == "total" else name
            lines.append(
                f"| {label} | {k['per_s']:,.1f} | {k['answered_per_s']:,.1f} | {lat['p50_ms']:,.1f}"
                f" | {lat['p99_ms']:,.1f} | {lat['max_ms']:,.1f} | {shown} |"
            )
        lines += [
            "",
            f"Latencies are of answered requests (2xx, no GraphQL errors). Socket errors: "
            f"{socket_errors}. Clients waited out Retry-After {r['wrk']['retry_after_waits']:,} "
            f"times. /healthz during the load: p50 {h['p50_ms']:.1f} ms, p99 {h['p99_ms']:.1f} ms,"
            f" max {h['max_ms']:.1f} ms ({h['count']} samples, {h['statuses']}). Server: peak RSS "
            f"{s['peak_rss_mib']:.0f} MiB ({s['rss_mib_before']:.0f} MiB before the load), "
            f"{s['cpu_cores_used']:.2f} cores busy; {hit_rate} of the cached kind's requests "
            f"answered from the response cache ({hits:,} hits, {s.get('cache_misses', 0):,} "
            "misses in all); "
            f"{s['log_errors']} errors logged. wrk itself used {r['wrk']['cpu_s']:.0f} CPU s.",
            "",
        ]
    return "\n".join(lines)


def _mix(value: str) -> dict[str, int]:
    mix = {kind: 0 for kind in MIX}
    for part in value.split(","):
        kind, _, weight = part.partition("=")
        if kind.strip() not in MIX or not weight.strip().isdigit():
            raise argparse.ArgumentTypeError(f"{part!r}: give kind=percent, kinds {', '.join(MIX)}")
        mix[kind.strip()] = int(weight)
    if not sum(mix.values()):
        raise argparse.ArgumentTypeError("the mix sends nothing")
    return mix


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.load",
        description=(__doc__ or "").split("\n\n")[0],
    )
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--connections", type=int, default=200)
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--pipelines", type=int, default=300)
    parser.add_argument("--runs-per-pipeline", type=int, default=20)
    parser.add_argument(
        "--mix",
        type=_mix,
        default=MIX,
        help="percent per kind, e.g. cached=60,runs_varied=15,failed_runs=15,lineage=10 "
        "(the default; kinds left out get none)",
    )
    parser.add_argument(
        "--no-retry-after",
        dest="retry_after",
        action="store_false",
        help="clients answered 503 ask again at once instead of waiting out Retry-After",
    )
    parser.add_argument("--output", type=Path, default=HERE / "results" / "load.json")
    args = parser.parse_args(argv)

    databases = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    runs = [
        bench_load(
            database,
            seconds=args.seconds,
            connections=args.connections,
            pipelines=args.pipelines,
            runs_per_pipeline=args.runs_per_pipeline,
            mix=args.mix,
            retry_after=args.retry_after,
            log_folder=args.output.parent,
        )
        for database in databases
    ]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(
        json.dumps({"platform": platform.platform(), "runs": runs}, indent=2, default=str)
    )
    print(report(runs))
    return runs


if __name__ == "__main__":
    main()
