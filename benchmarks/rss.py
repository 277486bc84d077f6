"""The API process's memory over a large estate: RSS after the four headline questions.

``python -m benchmarks.rss [--scale 1.0] [--database sqlite|postgres]``

Loads the synthetic estate of ``python -m benchmarks`` at ``--scale`` (1.0: 1,000 pipelines x
1,000 runs, 100,000 assets), starts the API in its own uvicorn process (as
benchmarks/load.py does), asks ``FailedRuns``, ``Runs``, ``Assets`` (first 100) and
``Lineage`` (depth 5, which builds the in-memory lineage graph) once each, and reads the
server's RSS and peak RSS from ``/proc``. Target: at most 500 MB at scale 1.0.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import text

from benchmarks.graphql_vs_plain import _body, _post
from benchmarks.load import Server, _database, _proc_status

HERE = Path(__file__).resolve().parent
TARGET_MIB = 500


def bench_rss(database: str, scale: float) -> dict[str, Any]:
    from adapters.synthetic import SyntheticAdapter
    from benchmarks.__main__ import estate_config
    from benchmarks.ingest import ingest
    from catalog.store.store import Store

    config = estate_config(scale)
    with _database(database) as url, tempfile.TemporaryDirectory(prefix="tempox-rss-") as tmp:
        store = Store(url)
        started = time.perf_counter()
        adapter = SyntheticAdapter("synthetic", SyntheticAdapter.config_class(**config))
        ingest(store, adapter.fetch(None))
        with store.engine.connect() as conn:
            runs = conn.execute(text("SELECT count(*) FROM run")).scalar_one()
            assets = conn.execute(text("SELECT count(*) FROM asset")).scalar_one()
            edges = conn.execute(text("SELECT count(*) FROM lineage_edge")).scalar_one()
            uri = conn.execute(text("SELECT uri FROM asset ORDER BY id LIMIT 1")).scalar_one()
        store.close()
        load_s = time.perf_counter() - started
        folder = Path(tmp)
        server = Server(url, folder / "server.log", folder / "stats.json")
        try:
            server.start()
            rss_idle = _proc_status(server.pid, "VmRSS")
            questions = {
                "FailedRuns": {"first": 100, "since": "2000-01-01T00:00:00Z"},
                "Runs": {"first": 100},
                "Assets": {"first": 100},
                "Lineage": {"node": {"asset": uri}, "depth": 5},
            }
            for name, variables in questions.items():
                _post(server.base, _body(name, variables))
            rss = _proc_status(server.pid, "VmRSS")
            peak = _proc_status(server.pid, "VmHWM")
        finally:
            server.stop()
    return {
        "database": database,
        "scale": scale,
        "runs": runs,
        "assets": assets,
        "lineage_edges": edges,
        "load_s": round(load_s, 1),
        "rss_mib_idle": round(rss_idle / 1024, 1),
        "rss_mib_after": round(rss / 1024, 1),
        "peak_rss_mib": round(peak / 1024, 1),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.rss", description=(__doc__ or "").split("\n\n")[0]
    )
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--output", type=Path, default=HERE / "results" / "rss.json")
    args = parser.parse_args(argv)
    result = bench_rss(args.database, args.scale)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2))
    print(
        f"| API process RSS after the four questions, {result['runs']:,} runs, "
        f"{result['assets']:,} assets ({result['database']}) | {result['rss_mib_after']:.0f} MiB "
        f"(peak {result['peak_rss_mib']:.0f}) | {result['rss_mib_idle']:.0f} MiB idle "
        f"| | <= {TARGET_MIB} MB at 1M runs |"
    )
    return result


if __name__ == "__main__":
    main()
