"""GraphQL against a plain JSON endpoint: req/s over real HTTP, the two interleaved in one run.

``python -m benchmarks.graphql_vs_plain [--database sqlite|postgres|both] [--seconds 3]``

Two uvicorn processes (one worker each, same settings, 127.0.0.1) over the same database: Tempox
(:func:`benchmarks.load.server_app`, default limits, the response cache on) and
:mod:`benchmarks.plain`, a Starlette endpoint answering each named operation from hand-written
SQL. ``wrk`` drives one of them at a time with ``--connections`` connections for ``--seconds``,
then the other, question by question, for ``--rounds`` rounds (the order flips every round), so
that both see the same machine load. The questions, each ``first: 100``:

- ``FailedRuns``: the last seven days (no since/until);
- ``Runs``: filtered by status, source and since;
- ``Assets``: filtered by URI prefix, with owners, tags, aliases and freshness;
- ``Lineage``: downstream of an asset, depth 5;

each *uncached*: every request carries a variable of its own (``nonce``, which the operation
ignores), so no two requests share a response-cache key. And ``cached``: the same ``Runs``
request again and again (Tempox answers it from its response cache; the plain endpoint has
none and runs its SQL). Before the load, each question is asked of both once and the answers
compared. Results go to ``benchmarks/results/graphql_vs_plain.json``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import re
import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.load import OPERATIONS, Server, _database, ensure_wrk, estate_config, load_estate
from benchmarks.plain import DB_URL_ENV as PLAIN_URL_ENV

HERE = Path(__file__).resolve().parent
LUA = HERE / "graphql_vs_plain.lua"
PAGE = 100
KINDS = ("FailedRuns", "Runs", "Assets", "Lineage", "cached")
NONCE = "__NONCE__"


def bodies(start: datetime, lineage_asset: str) -> dict[str, dict[str, Any]]:
    """Each kind's request body, ``__NONCE__`` standing for the per-request variable."""
    since = (start + (datetime.now(UTC) - start) / 2).isoformat()
    runs = {
        "first": PAGE,
        "filter": {"status": ["SUCCESS", "FAILED"], "source": ["synthetic"], "since": since},
    }
    variables: dict[str, dict[str, Any]] = {
        "FailedRuns": {"first": PAGE},
        "Runs": runs,
        "Assets": {"first": PAGE, "filter": {"uriPrefix": "s3://lake/"}},
        "Lineage": {"node": {"asset": lineage_asset}, "depth": 5},
    }
    out = {}
    for kind, v in variables.items():
        out[kind] = _body(kind, {**v, "nonce": NONCE})
    out["cached"] = _body("Runs", runs)
    return out


def _body(operation: str, variables: dict[str, Any]) -> dict[str, Any]:
    document = (OPERATIONS / f"{operation}.graphql").read_text()
    return {"query": document, "variables": variables, "operationName": operation}


def _post(base: str, body: dict[str, Any]) -> Any:
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=120)
    try:
        payload = json.dumps(body).replace(NONCE, "check")
        conn.request("POST", "/graphql", payload, {"Content-Type": "application/json"})
        response = conn.getresponse()
        answer = json.loads(response.read())
        if response.status != 200 or answer.get("errors"):
            raise RuntimeError(f"{body['operationName']}: HTTP {response.status}: {answer}")
        return answer["data"]
    finally:
        conn.close()


def _compare(kind: str, ours: Any, plain: Any) -> str:
    """``same``, or what differs (the lineage baseline is compared by its nodes and edges)."""
    if kind == "Lineage":
        a, b = ours["lineage"], plain["lineage"]
        left = sorted((n["id"], n["depth"]) for n in a["nodes"])
        right = sorted((n["id"], n["depth"]) for n in b["nodes"])
        if left != right:
            return f"nodes differ: {len(left)} vs {len(right)}"
        return "same nodes" if len(a["edges"]) == len(b["edges"]) else "edges differ"
    return "same" if ours == plain else "DIFFERENT"


def lineage_start(url: str) -> str:
    """The asset with the most nodes downstream within five hops, of the first hundred."""
    from catalog.filters import AssetFilter, Direction
    from catalog.pagination import PageRequest
    from catalog.service import Catalog
    from catalog.store.store import Store

    store = Store(url)
    try:
        catalog = Catalog(store)
        best, best_uri = -1, ""
        for asset in catalog.assets(AssetFilter(), PageRequest(100, None)).items:
            assert asset.id is not None
            size = len(catalog.lineage(("asset", asset.id), Direction.DOWNSTREAM, 5).nodes)
            if size > best:
                best, best_uri = size, asset.uri
        return best_uri
    finally:
        store.close()


def wrk_run(wrk: str, base: str, body: Path, seconds: float, connections: int) -> dict[str, Any]:
    command = [
        wrk,
        *("--threads", str(min(connections, 2)), "--connections", str(connections)),
        *("--duration", f"{round(seconds)}s", "--timeout", "30s", "--latency"),
        *("--script", str(LUA), f"{base}/graphql", "--", str(body)),
    ]
    done = subprocess.run(
        command, capture_output=True, text=True, check=False, timeout=seconds + 60
    )
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {(done.stdout + done.stderr)[-2000:]}")
    out = done.stdout
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    elapsed = re.search(r"requests in ([\d.]+)(m?s|m)\b", out)
    assert elapsed is not None, out
    wall = float(elapsed.group(1)) * {"s": 1.0, "ms": 0.001, "m": 60.0}[elapsed.group(2)]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", out)
    p50_ms = (
        float(p50.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[p50.group(2)] if p50 else 0.0
    )
    return {
        "requests": requests,
        "seconds": wall,
        "non_2xx": int(bad.group(1)) if bad else 0,
        "socket_errors": errors.group(1) if errors else "",
        "p50_ms": p50_ms,
    }


def bench(
    database: str,
    *,
    seconds: float,
    rounds: int,
    connections: int,
    pipelines: int,
    runs_per_pipeline: int,
    log_folder: Path | None = None,
) -> dict[str, Any]:
    wrk = ensure_wrk()
    config = estate_config(pipelines, runs_per_pipeline)
    with _database(database) as url, tempfile.TemporaryDirectory(prefix="tempox-gvp-") as tmp:
        folder = Path(tmp)
        print(f"[{database}] loading the estate ({pipelines} pipelines x {runs_per_pipeline} runs)")
        estate = load_estate(url, config)
        start = lineage_start(url)
        files = {}
        for kind, body in bodies(config["start"], start).items():
            files[kind] = folder / f"{kind}.json"
            files[kind].write_text(json.dumps(body))
        logs = log_folder or folder
        logs.mkdir(parents=True, exist_ok=True)
        tempox = Server(url, logs / f"gvp-{database}-tempox.log", folder / "tempox-stats.json")
        plain = Server(
            url,
            logs / f"gvp-{database}-plain.log",
            folder / "plain-stats.json",
            app="benchmarks.plain:app",
            env={PLAIN_URL_ENV: url},
        )
        figures: dict[str, dict[str, list[dict[str, Any]]]] = {
            k: {"tempox": [], "plain": []} for k in KINDS
        }
        agreement: dict[str, str] = {}
        try:
            tempox.start()
            plain.start()
            for kind in KINDS:
                body = json.loads(files[kind].read_text())
                agreement[kind] = _compare(
                    kind if kind != "cached" else "Runs",
                    _post(tempox.base, body),
                    _post(plain.base, body),
                )
            for n in range(rounds):
                for kind in KINDS:
                    order = [("tempox", tempox), ("plain", plain)]
                    for side, server in order if n % 2 == 0 else order[::-1]:
                        figures[kind][side].append(
                            wrk_run(wrk, server.base, files[kind], seconds, connections)
                        )
        finally:
            stats = tempox.stop()
            plain.stop()
    kinds: dict[str, Any] = {}
    for kind, sides in figures.items():
        out: dict[str, Any] = {}
        for side, runs in sides.items():
            requests = sum(r["requests"] for r in runs)
            wall = sum(r["seconds"] for r in runs)
            out[side] = {
                "req_per_s": requests / wall if wall else 0.0,
                "requests": requests,
                "non_2xx": sum(r["non_2xx"] for r in runs),
                "p50_ms": sorted(r["p50_ms"] for r in runs)[len(runs) // 2] if runs else 0.0,
                "runs": runs,
            }
        plain_rate = out["plain"]["req_per_s"]
        out["ratio"] = out["tempox"]["req_per_s"] / plain_rate if plain_rate else 0.0
        out["answers"] = agreement[kind]
        kinds[kind] = out
    return {
        "database": database,
        "machine": estate.pop("machine"),
        "estate": {**config, **estate, "start": config["start"].isoformat()},
        "lineage_start": start,
        "connections": connections,
        "seconds_per_burst": seconds,
        "rounds": rounds,
        "kinds": kinds,
        "tempox_cache": stats,
    }


TARGETS = {"cached": ">= 1x"}


def report(runs: list[dict[str, Any]]) -> str:
    lines: list[str] = []
    for r in runs:
        m, e = r["machine"], r["estate"]
        lines += [
            f"### GraphQL vs a plain JSON endpoint: {m['database']}",
            "",
            f"{m['cpu']}, {m['memory']} RAM, Python {m['python']}. Estate: {e['pipelines']} "
            f"pipelines, {e['runs']:,} runs, {e['task_runs']:,} task runs. wrk, "
            f"{r['connections']} connections, {r['rounds']} rounds of {r['seconds_per_burst']} s "
            "per question and server, interleaved; first 100.",
            "",
            "| question | Tempox req/s | plain req/s | ratio | target | answers |",
            "|---|---|---|---|---|---|",
        ]
        for kind, k in r["kinds"].items():
            label = "cached (`Runs`, repeated)" if kind == "cached" else f"`{kind}` uncached"
            lines.append(
                f"| {label} | {k['tempox']['req_per_s']:,.1f} | {k['plain']['req_per_s']:,.1f} "
                f"| {k['ratio']:.2f}x | {TARGETS.get(kind, '>= 0.5x')} | {k['answers']} |"
            )
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.graphql_vs_plain", description=(__doc__ or "").split("\n\n")[0]
    )
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--seconds", type=int, default=3, help="per burst")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--pipelines", type=int, default=200)
    parser.add_argument("--runs-per-pipeline", type=int, default=20)
    parser.add_argument("--output", type=Path, default=HERE / "results" / "graphql_vs_plain.json")
    args = parser.parse_args(argv)
    databases = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    runs = [
        bench(
            database,
            seconds=args.seconds,
            rounds=args.rounds,
            connections=args.connections,
            pipelines=args.pipelines,
            runs_per_pipeline=args.runs_per_pipeline,
            log_folder=args.output.parent,
        )
        for database in databases
    ]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"runs": runs}, indent=2, default=str))
    print(report(runs))
    return runs


if __name__ == "__main__":
    main()
