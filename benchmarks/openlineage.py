"""OpenLineage intake throughput: events per second through ``POST /api/v1/lineage`` (one event
per request, and arrays of events), against the same records written straight into the store.

Events are synthetic but shaped like the corpus' Airflow ones: a DAG run START, then a START and a
COMPLETE per task with one input and one output, then the DAG run's COMPLETE. The HTTP numbers
go through a real uvicorn server on 127.0.0.1 and the openlineage-python HTTP transport's session.
Call :func:`bench_openlineage` (``python -m benchmarks.openlineage`` runs it alone).
"""

from __future__ import annotations

import json
import socket
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import requests
import uvicorn

from adapters.openlineage import events_to_batch
from api.app import create_app
from catalog.service import Catalog
from catalog.store.store import Store


def make_events(dags: int, tasks: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    second = 0

    def ev(kind: str, job: str, run: str, parent: tuple[str, str] | None, io: int | None) -> None:
        nonlocal second
        second += 1
        facets: dict[str, Any] = {}
        if parent:
            facets["parent"] = {
                "run": {"runId": parent[1]},
                "job": {"namespace": "bench", "name": parent[0]},
            }
        e: dict[str, Any] = {
            "eventType": kind,
            "eventTime": time.strftime("2024-01-01T%H:%M:%SZ", time.gmtime(second)),
            "producer": "https://example.com/bench",
            "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
            "run": {"runId": run, "facets": facets},
            "job": {"namespace": "bench", "name": job},
        }
        if io is not None and kind == "COMPLETE":
            e["inputs"] = [{"namespace": "s3://lake", "name": f"t{io}"}]
            e["outputs"] = [{"namespace": "s3://lake", "name": f"t{io + 1}"}]
        out.append(e)

    for d in range(dags):
        dag, dag_run = f"dag{d}", str(uuid.uuid4())
        ev("START", dag, dag_run, None, None)
        for t in range(tasks):
            task_run = str(uuid.uuid4())
            ev("START", f"{dag}.task{t}", task_run, (dag, dag_run), t)
            ev("COMPLETE", f"{dag}.task{t}", task_run, (dag, dag_run), t)
        ev("COMPLETE", dag, dag_run, None, None)
    return out


def _serve(store: Store) -> tuple[str, uvicorn.Server, threading.Thread]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(catalog=Catalog(store)), port=port, log_level="warning")
    )
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    return f"http://127.0.0.1:{port}/api/v1/lineage", server, thread


def bench_openlineage(events: int = 2000, batch: int = 100) -> dict[str, float]:
    """Events per second: HTTP one per request, HTTP arrays of ``batch``, store directly."""
    tasks = 9
    sample = make_events(max(1, events // (2 * tasks + 2)), tasks)
    results: dict[str, float] = {"events": float(len(sample)), "batch": float(batch)}
    with tempfile.TemporaryDirectory() as tmp:
        for label in ("http_single", "http_batch", "store_direct"):
            store = Store(f"sqlite:///{Path(tmp) / f'{label}.db'}")
            source = store.ensure_source("openlineage", "openlineage")
            start = time.perf_counter()
            if label == "store_direct":
                for i in range(0, len(sample), batch):
                    store.write_batch(source, events_to_batch(sample[i : i + batch]))
            else:
                url, server, thread = _serve(store)
                with requests.Session() as http:
                    http.headers["Content-Type"] = "application/json"
                    start = time.perf_counter()
                    if label == "http_single":
                        for e in sample:
                            http.post(url, data=json.dumps(e), timeout=30).raise_for_status()
                    else:
                        for i in range(0, len(sample), batch):
                            body = json.dumps(sample[i : i + batch])
                            http.post(url, data=body, timeout=30).raise_for_status()
                    elapsed = time.perf_counter() - start
                server.should_exit = True
                thread.join(10)
                results[label] = round(len(sample) / elapsed, 1)
                store.close()
                continue
            results[label] = round(len(sample) / (time.perf_counter() - start), 1)
            store.close()
    return results


if __name__ == "__main__":
    print(json.dumps(bench_openlineage(), indent=2))
