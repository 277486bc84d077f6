"""What the adapter benchmarks (``benchmarks.airflow``, ``benchmarks.prefect``,
``benchmarks.dagster``) share: an adapter that counts its requests and its time reading the
source, a timed sync, and the rounds themselves.

Each round pages the raw API (runs only, then runs with their task runs, however the tool
names them), syncs into a fresh store (``benchmarks.__main__.database``) and syncs again, which
should find nothing new; figures are medians of the rounds. Each benchmark keeps what is its
own: its server and estate, its raw API client, its ``[sources.<name>]`` table and its report.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from benchmarks.__main__ import database
from benchmarks.machine import describe
from catalog.adapter import Adapter
from catalog.config import SourceSettings
from catalog.records import Batch, Cursor
from catalog.store import tables as t
from catalog.store.store import Store
from catalog.sync import sync_source
from catalog.sync_types import SyncStatus

ROUNDS = 3


@dataclass
class Counter:
    """One entry per adapter closed after it opened its session: its requests (the session's
    own count, the sign-in included where there is one) and its seconds inside ``fetch``
    (HTTP, the client's parsing, mapping: the rest of a sync is the store's)."""

    requests: list[int] = field(default_factory=list)
    reading: list[float] = field(default_factory=list)
    fetching: float = 0.0  # seconds inside fetch of the adapter not closed yet


def counting(adapter: type[Adapter[Any]], counter: Counter) -> type[Adapter[Any]]:
    """A subclass of ``adapter`` (one whose sessions count ``requests`` in ``_session``) that
    times its ``fetch`` and, at ``close()``, appends its counts to ``counter``. One adapter
    reads at a time, as the sync engine opens them."""

    def fetch(self: Adapter[Any], cursor: Cursor | None) -> Iterator[Batch]:
        batches = adapter.fetch(self, cursor)
        while True:
            start = time.perf_counter()
            batch = next(batches, None)
            counter.fetching += time.perf_counter() - start
            if batch is None:
                return
            yield batch

    def close(self: Adapter[Any]) -> None:
        session = getattr(self, "_session", None)
        if session is not None:
            counter.requests.append(session.requests)
            counter.reading.append(counter.fetching)
        counter.fetching = 0.0
        adapter.close(self)

    return type(f"Counting{adapter.__name__}", (adapter,), {"fetch": fetch, "close": close})


def counting_source(source: SourceSettings, counter: Counter) -> SourceSettings:
    """``source`` with its adapter class made a counting one (``counting``)."""
    assert source.adapter is not None, f"source {source.name!r}: {source.problem}"
    return replace(source, adapter=counting(source.adapter, counter))


def overlap_of(source: SourceSettings) -> timedelta:
    """The source's ``overlap``: how far back of its cursor each sync reads again."""
    overlap: timedelta = getattr(source.config, "overlap")  # noqa: B009 (not on AdapterConfig)
    return overlap


def settle(last_change: datetime, overlap: timedelta) -> float:
    """Wait until ``last_change`` is older than ``overlap`` (and two seconds), so a sync with
    nothing new finds nothing rather than the last minutes of the estate's creation; the
    seconds waited. The server runs on this machine: its clock is ours."""
    settled = last_change + overlap + timedelta(seconds=2)
    wait = (settled - datetime.now(last_change.tzinfo)).total_seconds()
    if wait > 0:
        print(
            f"waiting {wait:.0f}s until the last change is older than the adapter's "
            f"overlap ({overlap.total_seconds():.0f}s) …",
            flush=True,
        )
        time.sleep(wait)
    return max(wait, 0.0)


def timed_sync(store: Store, source: SourceSettings, counter: Counter) -> dict[str, float]:
    """One sync by the engine, leases and all: its seconds, the adapter's requests and
    reading seconds, records and batches written."""
    before = len(counter.requests)
    start = time.perf_counter()
    result = sync_source(store, source, lease_ttl=timedelta(minutes=30))
    spent = time.perf_counter() - start
    if result.status is not SyncStatus.OK:
        raise RuntimeError(f"the sync failed: {result.error}")
    assert len(counter.requests) == before + 1, "the adapter was not closed"
    return {
        "seconds": spent,
        "requests": counter.requests[-1],
        "reading_s": counter.reading[-1],
        "records": result.records,
        "batches": result.batches,
    }


def stored(store: Store) -> tuple[int, int]:
    """Runs and task runs in the store."""
    with store.session() as s:
        runs = s.scalar(select(func.count()).select_from(t.Run))
        task_runs = s.scalar(select(func.count()).select_from(t.TaskRun))
    return int(runs or 0), int(task_runs or 0)


def bench_rounds(
    *,
    label: str,
    source: SourceSettings,
    raw_runs: Callable[[], int],
    raw_runs_and_tasks: Callable[[], int],
    raw_requests: Callable[[], int],
    runs: int,
    task_runs: int,
    kind: str,
    rounds: int = ROUNDS,
    tasks_word: str = "task runs",
) -> dict[str, Any]:
    """Median of ``rounds`` rounds of: raw runs (``raw_runs``, the runs it listed), raw runs
    and task runs (``raw_runs_and_tasks``, the rows it listed), Tempox first sync of
    ``source`` into a fresh ``kind`` store named for ``label``, Tempox sync with nothing new.
    ``raw_requests`` is the raw client's request count so far; ``tasks_word`` names the task
    runs in the progress lines. Prints a line a round."""
    samples: dict[str, list[float]] = {
        "raw_runs_s": [],
        "raw_with_tasks_s": [],
        "first_sync_s": [],
        "first_sync_requests": [],
        "first_sync_reading_s": [],
        "second_sync_s": [],
        "second_sync_requests": [],
        "second_sync_reading_s": [],
    }
    counter = Counter()
    source = counting_source(source, counter)
    out: dict[str, Any] = {}
    print(f"measuring, {rounds} rounds …", flush=True)
    for n in range(rounds):
        start, asked = time.perf_counter(), raw_requests()
        got = raw_runs()
        samples["raw_runs_s"].append(time.perf_counter() - start)
        out["raw_requests_runs_only"] = raw_requests() - asked
        assert got == runs, f"the raw API listed {got} runs, not {runs}"
        start, asked = time.perf_counter(), raw_requests()
        got = raw_runs_and_tasks()
        samples["raw_with_tasks_s"].append(time.perf_counter() - start)
        out["raw_requests_with_tasks"] = raw_requests() - asked
        assert got == runs + task_runs, f"the raw API listed {got} rows, not {runs + task_runs}"
        with database(kind, label) as url:
            store = Store(url)
            try:
                if n == 0:
                    out["machine"] = describe(store.engine)
                first = timed_sync(store, source, counter)
                found = stored(store)
                if found != (runs, task_runs):
                    raise RuntimeError(f"the store holds {found} runs and task runs")
                second = timed_sync(store, source, counter)
            finally:
                store.close()
        for name, sync in (("first_sync", first), ("second_sync", second)):
            samples[f"{name}_s"].append(sync["seconds"])
            samples[f"{name}_requests"].append(sync["requests"])
            samples[f"{name}_reading_s"].append(sync["reading_s"])
        out.setdefault("first_sync_records", first["records"])
        out.setdefault("first_sync_batches", first["batches"])
        out.setdefault("second_sync_records", second["records"])
        out.setdefault("second_sync_batches", second["batches"])
        print(
            f"  round {n + 1}/{rounds}: raw runs {samples['raw_runs_s'][-1]:.2f}s, "
            f"raw runs+{tasks_word} {samples['raw_with_tasks_s'][-1]:.2f}s, "
            f"first sync {first['seconds']:.2f}s ({first['requests']:.0f} requests), "
            f"no-change sync {second['seconds']:.2f}s ({second['requests']:.0f} requests)",
            flush=True,
        )
    med = {k: statistics.median(v) for k, v in samples.items()}
    first_runs_per_s = runs / med["first_sync_s"]
    return {
        **out,
        "samples": samples,
        "raw_runs_only_runs_per_s": runs / med["raw_runs_s"],
        "raw_with_tasks_runs_per_s": runs / med["raw_with_tasks_s"],
        "tempox_first_sync_s": med["first_sync_s"],
        "tempox_first_sync_runs_per_s": first_runs_per_s,
        "tempox_first_sync_requests": med["first_sync_requests"],
        "tempox_first_sync_reading_s": med["first_sync_reading_s"],
        "ratio_vs_raw_with_tasks": first_runs_per_s / (runs / med["raw_with_tasks_s"]),
        "ratio_vs_raw_runs_only": first_runs_per_s / (runs / med["raw_runs_s"]),
        "no_change_sync_s": med["second_sync_s"],
        "no_change_sync_requests": med["second_sync_requests"],
        "no_change_sync_reading_s": med["second_sync_reading_s"],
    }


def table(bench: dict[str, Any], *, reading: str, raw: str, with_tasks: str) -> list[str]:
    """The Markdown table of ``bench_rounds``' figures: ``reading`` names the source read
    ("Prefect"), ``raw`` the baseline ("raw client"), ``with_tasks`` its second listing
    ("runs + task runs")."""
    b = bench
    first = f"| first sync, runs/s | {b['tempox_first_sync_runs_per_s']:,.0f} "
    return [
        "| measure | Tempox | baseline (same run) | ratio |",
        "|---|---|---|---|",
        f"{first}({b['tempox_first_sync_s']:.2f}s, {b['tempox_first_sync_requests']:.0f} "
        f"requests, {b['tempox_first_sync_reading_s']:.2f}s of it reading {reading}) "
        f"| {b['raw_with_tasks_runs_per_s']:,.0f} ({raw}: {with_tasks}, "
        f"{b['raw_requests_with_tasks']} requests) | {b['ratio_vs_raw_with_tasks']:.2f}x |",
        f"{first}| {b['raw_runs_only_runs_per_s']:,.0f} ({raw}: runs only, "
        f"{b['raw_requests_runs_only']} requests) | {b['ratio_vs_raw_runs_only']:.2f}x |",
        f"| sync with nothing new | {b['no_change_sync_s']:.2f}s, "
        f"{b['no_change_sync_requests']:.0f} requests | | |",
    ]


def save(results: dict[str, Any], output: Path) -> None:
    """Move ``bench_rounds``' machine out of ``results["bench"]``, write ``results`` as JSON to
    ``output`` and print the figures, their samples left out."""
    results["machine"] = results["bench"].pop("machine")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=2, default=str))
    print(json.dumps({k: v for k, v in results["bench"].items() if k != "samples"}, indent=2))
