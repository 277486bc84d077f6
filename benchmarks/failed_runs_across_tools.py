"""Which runs failed in the last 7 days, across all tools: one Tempox query against asking
Airflow, Prefect and Dagster themselves, on the same estate, measured in the same run.

One run starts a real Airflow 3.3.2, Prefect 3.8.8 and Dagster 1.13.27 (the ``tests/peers``
harnesses, SQLite backed, temporary homes on 127.0.0.1) and gives each ``--runs`` finished runs,
``--failed`` of them (a fraction) failed:

* Airflow: dag runs of the paused ``bench_dag`` (``benchmarks.airflow``) created through
  ``POST /dags/bench_dag/dagRuns``, logical dates spread over the last six days, then marked
  ``success`` or ``failed`` through ``PATCH /dags/bench_dag/dagRuns/{run_id}``;
* Prefect: flow runs of ``bench-flow`` written through its REST API (``benchmarks.prefect``'s
  ``Writer``), expected start times spread over the last six days, each forced RUNNING, its task
  runs COMPLETED (the last one FAILED in a failed run), then COMPLETED or FAILED;
* Dagster: runs of a three-op job really executed by Dagster's ``execute_job`` (as in
  ``benchmarks.dagster``), its last op raising when the run is tagged ``fail``.

None of the three takes a start time from outside, so every run started during the estate's
creation: the seven-day window holds all of them, and the question's answer is every failed run.

The three are synced into one fresh SQLite store by Tempox's adapters (``sync_sources``), then,
``--repeat`` times (medians reported):

* Tempox over HTTP: the project's ``FailedRuns`` operation (``graphql/operations``, verbatim,
  so answered by the compiled path, ``api.direct``; no window given, so the last seven days)
  posted to a real uvicorn serving the store (``tests.peers.tempox.serve``), paged ``--page`` at
  a time. The answer reads the clock, so the response cache keeps it for one 5 s step of the
  rounded "now": rounds that fall in the same step are answered from it. With
  ``--no-response-cache`` the server keeps nothing and every round executes;
* Tempox in-process: ``Catalog.runs(Catalog.failed_runs_filter(None, None), PageRequest(...))``;
* the orchestrators, one after the other, with plain ``httpx`` as a person with three tools
  would: Airflow ``GET /api/v2/dags/~/dagRuns?state=failed&end_date_gte=…`` (a run marked
  failed while queued never gets a ``start_date``, so ``start_date_gte`` would list none of
  them; its ``end_date`` is when it failed) (a JWT from
  ``/auth/token`` fetched once beforehand, 100 a page, the server's cap); Prefect ``POST
  /api/flow_runs/filter`` (state FAILED or CRASHED, ``start_time`` after, 200 a page, the cap)
  and ``POST /api/flows/filter`` for the flows' names; Dagster GraphQL ``runsOrError(filter:
  {statuses: [FAILURE], createdAfter: …})``, 100 a page by run id cursor.

Both answers must hold the same failed runs, tool by tool (compared by external id).
``python -m benchmarks.failed_runs_across_tools`` prints a Markdown table and writes JSON to
``benchmarks/results/failed_runs_across_tools.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import httpx

from api.demo.estate import AIRFLOW_PASSWORD_ENV, demo_settings
from benchmarks.__main__ import database
from benchmarks.airflow import DAG_FILE
from benchmarks.airflow import DAG_ID as AIRFLOW_DAG
from benchmarks.dagster import DEFS_FILE as DAGSTER_DEFS
from benchmarks.dagster import MODULE as DAGSTER_MODULE
from benchmarks.dagster import create_estate as create_dagster_estate
from benchmarks.dagster import start_server as start_dagster
from benchmarks.machine import describe
from benchmarks.prefect import FLOW as PREFECT_FLOW
from benchmarks.prefect import Writer, create_run
from catalog.config import LimitSettings, Settings
from catalog.pagination import MAX_PAGE, PageRequest
from catalog.service import Catalog
from catalog.store import tables as t
from catalog.store.store import Store
from catalog.sync import sync_sources
from catalog.sync_types import SyncStatus
from tests.peers.airflow import AIRFLOW_VERSION, PASSWORD, AirflowStack
from tests.peers.dagster import DAGSTER_VERSION, DagsterServer
from tests.peers.prefect import PREFECT_VERSION, PrefectServer
from tests.peers.tempox import serve

HERE = Path(__file__).resolve().parent
OPERATION = (HERE.parent / "graphql" / "operations" / "FailedRuns.graphql").read_text()
TOOLS = ("airflow", "prefect", "dagster")
WINDOW = timedelta(days=7)
SPREAD = timedelta(days=6)  # logical dates / expected start times, over the last six days
AIRFLOW_PAGE = 100  # the server's cap
PREFECT_PAGE = 200  # the server's cap
DAGSTER_PAGE = 100
DAGSTER_FAILED = """
query FailedRuns($cursor: String, $limit: Int, $after: Float) {
  runsOrError(cursor: $cursor, limit: $limit,
              filter: {statuses: [FAILURE], createdAfter: $after}) {
    __typename
    ... on Runs { results { runId jobName status startTime endTime } }
    ... on PythonError { message }
  }
}
"""


def fails(i: int, every: int) -> bool:
    """Whether run ``i`` of a tool's estate fails: one in ``every``."""
    return every > 0 and i % every == every - 1


def progress(what: str, done: int, total: int, start: float) -> None:
    if done % max(1, total // 5) == 0 or done == total:
        rate = done / (time.perf_counter() - start)
        print(f"  {what} {done:,}/{total:,}, {rate:,.1f}/s", flush=True)


# -- the estates --------------------------------------------------------------------------------


def airflow_estate(stack: AirflowStack, runs: int, every: int) -> dict[str, Any]:
    """``runs`` dag runs of the paused DAG, logical dates over the last six days, each then
    marked success or failed (one in ``every``)."""
    stack.api("PATCH", f"/dags/{AIRFLOW_DAG}", json={"is_paused": True})
    first = datetime.now(UTC) - SPREAD
    start = time.perf_counter()
    for i in range(runs):
        logical = first + SPREAD * i / runs
        body = {"logical_date": logical.isoformat(), "conf": {}}
        run_id = stack.api("POST", f"/dags/{AIRFLOW_DAG}/dagRuns", json=body)["dag_run_id"]
        state = "failed" if fails(i, every) else "success"
        stack.api("PATCH", f"/dags/{AIRFLOW_DAG}/dagRuns/{run_id}", json={"state": state})
        progress("airflow: finished runs", i + 1, runs, start)
    return {"create_s": time.perf_counter() - start}


def prefect_estate(server: PrefectServer, runs: int, every: int) -> dict[str, Any]:
    writer = Writer(server)
    try:
        flow = writer.post("/flows/", {"name": PREFECT_FLOW})
        first = datetime.now(UTC) - SPREAD
        start = time.perf_counter()
        for i in range(runs):
            expected = first + SPREAD * i / runs
            create_run(writer, flow["id"], i, expected, 3, fails(i, every))
            progress("prefect: finished flow runs", i + 1, runs, start)
        return {"create_s": time.perf_counter() - start, "requests": writer.requests}
    finally:
        writer.close()


# -- the baseline: each orchestrator's own API ----------------------------------------------------


class Orchestrators:
    """Plain ``httpx`` clients, one per tool, keep-alive: no Tempox code on this path. Each
    ``*_failed`` returns the external ids (as Tempox names them) of the tool's failed runs
    since ``since``, with the pipeline's name fetched alongside."""

    def __init__(
        self, airflow: AirflowStack, prefect: PrefectServer, dagster: DagsterServer
    ) -> None:
        self.airflow = httpx.Client(
            base_url=f"{airflow.url}/api/v2",
            headers={"Authorization": f"Bearer {airflow.token()}"},
            timeout=120,
        )
        self.prefect = httpx.Client(base_url=prefect.url, headers=prefect.headers, timeout=120)
        self.dagster = httpx.Client(timeout=120)
        self.dagster_url = dagster.url
        self.requests = {tool: 0 for tool in TOOLS}

    def airflow_failed(self, since: datetime) -> dict[str, str]:
        out: dict[str, str] = {}
        total = None
        while total is None or len(out) < total:
            self.requests["airflow"] += 1
            params: dict[str, Any] = {
                "state": "failed",
                "end_date_gte": since.isoformat(),
                "limit": AIRFLOW_PAGE,
                "offset": len(out),
                "order_by": "id",
            }
            r = self.airflow.get("/dags/~/dagRuns", params=params)
            r.raise_for_status()
            page = r.json()
            total = page["total_entries"]
            if not page["dag_runs"]:
                break
            for run in page["dag_runs"]:
                out[f"{run['dag_id']}/{run['dag_run_id']}"] = run["dag_id"]
        return out

    def prefect_failed(self, since: datetime) -> dict[str, str]:
        body: dict[str, Any] = {
            "flow_runs": {
                "state": {"type": {"any_": ["FAILED", "CRASHED"]}},
                "start_time": {"after_": since.isoformat()},
            },
            "sort": "ID_DESC",
            "limit": PREFECT_PAGE,
        }
        runs: list[dict[str, Any]] = []
        while True:
            self.requests["prefect"] += 1
            r = self.prefect.post("/flow_runs/filter", json=body | {"offset": len(runs)})
            r.raise_for_status()
            page = r.json()
            runs += page
            if len(page) < PREFECT_PAGE:
                break
        names: dict[str, str] = {}
        flow_ids = sorted({run["flow_id"] for run in runs})
        for i in range(0, len(flow_ids), PREFECT_PAGE):
            self.requests["prefect"] += 1
            ids = flow_ids[i : i + PREFECT_PAGE]
            query = {"flows": {"id": {"any_": ids}}, "limit": PREFECT_PAGE}
            r = self.prefect.post("/flows/filter", json=query)
            r.raise_for_status()
            names |= {f["id"]: f["name"] for f in r.json()}
        return {run["id"]: names[run["flow_id"]] for run in runs}

    def dagster_failed(self, since: datetime) -> dict[str, str]:
        out: dict[str, str] = {}
        cursor: str | None = None
        while True:
            self.requests["dagster"] += 1
            variables = {"cursor": cursor, "limit": DAGSTER_PAGE, "after": since.timestamp()}
            r = self.dagster.post(
                self.dagster_url, json={"query": DAGSTER_FAILED, "variables": variables}
            )
            r.raise_for_status()
            answer = r.json()
            found = (answer.get("data") or {}).get("runsOrError") or {}
            if answer.get("errors") or found.get("__typename") != "Runs":
                raise RuntimeError(f"runsOrError failed: {answer}")
            page: list[dict[str, Any]] = found["results"]
            out |= {run["runId"]: run["jobName"] for run in page}
            if len(page) < DAGSTER_PAGE:
                return out
            cursor = page[-1]["runId"]

    def ask(self, tool: str) -> dict[str, str]:
        since = datetime.now(UTC) - WINDOW
        method: Callable[[datetime], dict[str, str]] = getattr(self, f"{tool}_failed")
        return method(since)

    def close(self) -> None:
        for client in (self.airflow, self.prefect, self.dagster):
            client.close()


# -- Tempox ---------------------------------------------------------------------------------------


def settings(airflow: AirflowStack, prefect: PrefectServer, dagster: DagsterServer) -> Settings:
    """The ``[sources.*]`` tables a user would write for the three (the demo's)."""
    return demo_settings({"airflow": airflow.url, "prefect": prefect.root, "dagster": dagster.root})


class TempoxHttp:
    """The ``FailedRuns`` operation posted to a real server, paged until the end."""

    def __init__(self, url: str, page: int) -> None:
        self.http = httpx.Client(base_url=url, timeout=120)
        self.page = page
        self.requests = 0

    def ask(self) -> dict[str, dict[str, str]]:
        """Failed runs by source name: external id → pipeline name."""
        out: dict[str, dict[str, str]] = {}
        after: str | None = None
        while True:
            self.requests += 1
            variables = {"first": self.page, "after": after}
            r = self.http.post("/graphql", json={"query": OPERATION, "variables": variables})
            r.raise_for_status()
            answer = r.json()
            if answer.get("errors"):
                raise RuntimeError(f"failedRuns failed: {answer['errors']}")
            found = answer["data"]["failedRuns"]
            for node in found["nodes"]:
                source = node["pipeline"]["source"]["name"]
                out.setdefault(source, {})[node["externalId"]] = node["pipeline"]["name"]
            if not found["pageInfo"]["hasNextPage"]:
                return out
            after = found["pageInfo"]["endCursor"]

    def close(self) -> None:
        self.http.close()


def in_process(catalog: Catalog, page: int) -> list[t.Run]:
    """Every failed run of the last seven days, through the catalog's own call."""
    f = catalog.failed_runs_filter(None, None)
    rows: list[t.Run] = []
    after: str | None = None
    while True:
        got = catalog.runs(f, PageRequest(first=page, after=after))
        rows += got.items
        if not got.has_next:
            return rows
        after = got.end_cursor


def by_source(catalog: Catalog, rows: list[t.Run]) -> dict[str, set[str]]:
    sources = {
        s.id: s.name
        for s in catalog.by_ids(t.Source, sorted({r.source_id for r in rows}))
        if s is not None
    }
    out: dict[str, set[str]] = {}
    for r in rows:
        out.setdefault(sources[r.source_id], set()).add(r.external_id)
    return out


# -- the measurement ------------------------------------------------------------------------------


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    got = fn()
    return time.perf_counter() - start, got


def measure(
    raw: Orchestrators, http: TempoxHttp, catalog: Catalog, repeat: int, page: int
) -> dict[str, Any]:
    """One warm-up, then ``repeat`` rounds of: the three tools one after the other, Tempox over
    HTTP, Tempox in-process. Checks every round's answers agree."""
    samples: dict[str, list[float]] = {
        **{tool: [] for tool in TOOLS},
        "orchestrators_total": [],
        "tempox_http": [],
        "tempox_in_process": [],
    }
    answers: dict[str, Any] = {}
    for n in range(repeat + 1):
        total = 0.0
        theirs: dict[str, dict[str, str]] = {}
        for tool in TOOLS:
            spent, theirs[tool] = timed(partial(raw.ask, tool))
            total += spent
            if n:
                samples[tool].append(spent)
        spent_http, ours = timed(http.ask)
        spent_catalog, rows = timed(lambda: in_process(catalog, page))
        ours_catalog = by_source(catalog, rows)
        for tool in TOOLS:
            expected = set(theirs[tool])
            if set(ours.get(tool, {})) != expected or ours_catalog.get(tool, set()) != expected:
                raise RuntimeError(
                    f"{tool}: the tool lists {len(expected)} failed runs, Tempox "
                    f"{len(ours.get(tool, {}))} over HTTP and {len(ours_catalog.get(tool, ()))} "
                    "in-process, or not the same ones"
                )
            if ours[tool] != theirs[tool]:
                raise RuntimeError(f"{tool}: the pipelines of the failed runs differ")
        answers = {tool: len(theirs[tool]) for tool in TOOLS}
        if n:
            samples["orchestrators_total"].append(total)
            samples["tempox_http"].append(spent_http)
            samples["tempox_in_process"].append(spent_catalog)
            print(
                f"  round {n}/{repeat}: orchestrators {total * 1000:,.0f} ms ("
                + ", ".join(f"{tool} {samples[tool][-1] * 1000:,.0f}" for tool in TOOLS)
                + f"), Tempox HTTP {spent_http * 1000:,.1f} ms, "
                f"in-process {spent_catalog * 1000:,.1f} ms",
                flush=True,
            )
    med = {k: statistics.median(v) for k, v in samples.items()}
    requests_per_round = {tool: raw.requests[tool] // (repeat + 1) for tool in TOOLS}
    return {
        "failed_runs": answers,
        "failed_runs_total": sum(answers.values()),
        "median_s": med,
        "samples_s": samples,
        "orchestrator_requests_per_round": requests_per_round,
        "tempox_http_requests_per_round": http.requests // (repeat + 1),
        "ratio_http": med["orchestrators_total"] / med["tempox_http"],
        "ratio_in_process": med["orchestrators_total"] / med["tempox_in_process"],
    }


def sync(store: Store, config: Settings) -> dict[str, Any]:
    start = time.perf_counter()
    results = sync_sources(store, config)
    spent = time.perf_counter() - start
    problems = {r.source: r.error for r in results if r.status is not SyncStatus.OK}
    if problems or {r.source for r in results} != set(TOOLS):
        raise RuntimeError(f"the sync failed: {problems or results}")
    return {"seconds": spent, "records": {r.source: r.records for r in results}}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.failed_runs_across_tools", description=__doc__
    )
    parser.add_argument("--runs", type=int, default=200, help="finished runs per tool (200)")
    parser.add_argument(
        "--failed", type=float, default=0.1, help="the fraction of them that fail (0.1)"
    )
    parser.add_argument("--repeat", type=int, default=7, help="measured rounds (7)")
    parser.add_argument(
        "--page", type=int, default=MAX_PAGE, help=f"Tempox's page size ({MAX_PAGE}, the cap)"
    )
    parser.add_argument(
        "--no-response-cache",
        action="store_true",
        help="serve without the response cache: every Tempox request executes",
    )
    parser.add_argument(
        "--output", type=Path, default=HERE / "results" / "failed_runs_across_tools.json"
    )
    args = parser.parse_args(argv)
    every = round(1 / args.failed) if args.failed > 0 else 0
    os.environ[AIRFLOW_PASSWORD_ENV] = PASSWORD
    began = time.perf_counter()

    results: dict[str, Any] = {
        "versions": {
            "airflow": AIRFLOW_VERSION,
            "prefect": PREFECT_VERSION,
            "dagster": DAGSTER_VERSION,
        },
        "runs_per_tool": args.runs,
        "one_failed_in": every,
        "repeat": args.repeat,
        "page": args.page,
    }
    stops: list[Callable[[], None]] = []
    with tempfile.TemporaryDirectory(prefix="tempox-bench-failed-runs-") as tmp_name:
        tmp = Path(tmp_name)
        try:
            dags, defs = tmp / "dags", tmp / "defs"
            dags.mkdir()
            defs.mkdir()
            (dags / "bench_dag.py").write_text(DAG_FILE)
            (defs / f"{DAGSTER_MODULE}.py").write_text(DAGSTER_DEFS)
            print("starting Airflow, Prefect and Dagster …", flush=True)
            start = time.perf_counter()
            airflow = AirflowStack.start(tmp / "airflow", dags, expect_dags=1)
            stops.append(airflow.stop)
            (tmp / "prefect").mkdir()
            prefect = PrefectServer.start(tmp / "prefect")
            stops.append(prefect.stop)
            dagster = start_dagster(tmp / "dagster", defs)
            stops.append(dagster.stop)
            results["start_s"] = time.perf_counter() - start
            print(f"  up in {results['start_s']:.0f}s", flush=True)

            print(f"creating {args.runs:,} runs per tool, one in {every} failed …", flush=True)
            results["estate"] = {
                "airflow": airflow_estate(airflow, args.runs, every),
                "prefect": prefect_estate(prefect, args.runs, every),
                "dagster": create_dagster_estate(dagster, defs, args.runs, every),
            }
            expected_failed = sum(fails(i, every) for i in range(args.runs))

            with database("sqlite", "failed-runs-across-tools") as url:
                store = Store(url)
                try:
                    results["machine"] = describe(store.engine)
                    print("syncing the three into one store …", flush=True)
                    results["sync"] = sync(store, settings(airflow, prefect, dagster))
                    print(f"  synced in {results['sync']['seconds']:.1f}s", flush=True)
                    catalog = Catalog(store)
                    raw = Orchestrators(airflow, prefect, dagster)
                    limits = LimitSettings(cache_bytes=0) if args.no_response_cache else None
                    results["response_cache"] = not args.no_response_cache
                    with serve(store, limits=limits) as tempox_url:
                        http = TempoxHttp(tempox_url, args.page)
                        try:
                            print(f"measuring, {args.repeat} rounds …", flush=True)
                            bench = measure(raw, http, catalog, args.repeat, args.page)
                        finally:
                            http.close()
                            raw.close()
                finally:
                    store.close()
            for tool, count in bench["failed_runs"].items():
                if count != expected_failed:
                    raise RuntimeError(f"{tool}: {count} failed runs, not {expected_failed}")
            results["bench"] = bench
        finally:
            print("stopping the servers …", flush=True)
            for stop in reversed(stops):
                stop()
    results["wall_s"] = time.perf_counter() - began
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2, default=str))
    print(report(results))


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def report(r: dict[str, Any]) -> str:
    b, m, v = r["bench"], r["machine"], r["versions"]
    med, asked = b["median_s"], b["orchestrator_requests_per_round"]

    def ms(seconds: float) -> str:
        return f"{seconds * 1000:,.1f} ms"

    rows = [
        f"| all failed runs, last 7 days ({b['failed_runs_total']}), over HTTP "
        f"| {ms(med['tempox_http'])} ({plural(b['tempox_http_requests_per_round'], 'request')}) "
        f"| {ms(med['orchestrators_total'])} ({plural(sum(asked.values()), 'request')}) "
        f"| {b['ratio_http']:,.1f}x |",
        f"| the same, `Catalog.runs` in-process | {ms(med['tempox_in_process'])} "
        f"| {ms(med['orchestrators_total'])} | {b['ratio_in_process']:,.1f}x |",
    ]
    for tool in TOOLS:
        rows.append(
            f"| of which {tool} ({b['failed_runs'][tool]}) | | {ms(med[tool])} "
            f"({plural(asked[tool], 'request')}) | |"
        )
    return "\n".join(
        [
            f"Machine: {m['cpu']}, {m['memory']} RAM, Python {m['python']}, {m['database']}. "
            f"Airflow {v['airflow']}, Prefect {v['prefect']}, Dagster {v['dagster']} (SQLite) "
            f"on 127.0.0.1, {r['runs_per_tool']:,} finished runs each, one in "
            f"{r['one_failed_in']} failed; synced into one Tempox store in "
            f"{r['sync']['seconds']:.1f}s. Medians of {r['repeat']} rounds; whole run "
            f"{r['wall_s']:.0f}s.",
            "",
            "| measure | Tempox | baseline (the three APIs, one after the other) | ratio |",
            "|---|---|---|---|",
            *rows,
        ]
    )


if __name__ == "__main__":
    main()
