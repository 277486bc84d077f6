"""Push latency: how soon a finished run is visible in Tempox's GraphQL, pushed vs polled.

For each tool (real Airflow 3, Prefect 3 and Dagster servers from ``tests/peers``, wired with
the recipes of ``examples/push``), ``--runs`` runs are made one after another. Two Tempox
servers watch the tool at once, each on its own store:

- *push*: the tool's recipe calls ``POST /api/v1/sources/tool/sync`` on it; its interval is an
  hour, so only pushes bring runs in;
- *poll*: nothing calls it; it syncs every ``--interval`` (the pre-push way).

Each run's latency is the time from the tool marking it finished (its own end time: Airflow's
``end_date``, Prefect's ``end_time``, Dagster's ``endTime``) to its final status being
answered by GraphQL (``run(source, externalId)``, polled every 25 ms). For the push server the
time from the push reaching Tempox (the tool's notification firing) to visibility is reported
too: that is Tempox's own share, the target of which is under a second; and the tool's own
notification delay (finished to push reaching Tempox). Both servers are watched for a run from
the moment its push arrives (the push names the run), not from when the tool's command that
made it returns: that can be seconds later (a Prefect flow process shutting down), and would
hide how soon the run was there. Runs are made sequentially; a run's poll-mode wait overlaps
the runs after it.

``python -m benchmarks.push_latency --runs 20 --interval 60s`` prints a Markdown table and
writes ``benchmarks/results/push_latency.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from catalog.adapter import SyncHint
from catalog.store.store import Store
from catalog.sync_triggers import PushAccepted, SyncScheduler
from tests.peers.airflow import PASSWORD, PASSWORD_ENV, USERNAME, AirflowStack
from tests.peers.dagster import DagsterServer
from tests.peers.estates import DAG_IDS, DAGS
from tests.peers.prefect import PrefectServer
from tests.peers.processes import Service, free_port
from tests.peers.push import SOURCE, PushedTempox, ingest_token, tempox_for
from tests.peers.venvs import ROOT

HERE = Path(__file__).resolve().parent
TOOLS = ("airflow", "prefect", "dagster")
DONE = {"SUCCESS", "FAILED"}
POLL_S = 0.025
EXAMPLES = ROOT / "examples" / "push"
PREFECT_FLOWS = ROOT / "tests" / "adapters" / "prefect" / "flows" / "push.py"
DAGSTER_DEFS = ROOT / "tests" / "adapters" / "dagster" / "push_defs"
DAGSTER_MODULE = "push_estate"


# -- when pushes reach Tempox -----------------------------------------------------------------


class Arrivals:
    """When each pushed run id first reached Tempox (the scheduler's ``push``, timed); each
    run a push names, as Tempox names it, goes to ``on_arrival`` at once."""

    def __init__(self) -> None:
        self.at: dict[str, float] = {}
        self._lock = threading.Lock()
        self.on_arrival: list[Callable[[str], None]] = []
        self.external_id: Callable[[SyncHint], str] = lambda h: str(h.run_id)

    @contextmanager
    def recording(self) -> Iterator[None]:
        original = SyncScheduler.push

        def timed(
            scheduler: SyncScheduler, name: str, hints: Sequence[SyncHint] = ()
        ) -> PushAccepted:
            now = time.time()
            named: list[str] = []
            with self._lock:
                for h in hints:
                    run_id = self.external_id(h) if h.run_id else None
                    if run_id is not None and run_id not in self.at:
                        self.at[run_id] = now
                        named.append(run_id)
            for run_id in named:
                for watch in self.on_arrival:
                    watch(run_id)
            return original(scheduler, name, hints)

        SyncScheduler.push = timed  # type: ignore[method-assign]
        try:
            yield
        finally:
            SyncScheduler.push = original  # type: ignore[method-assign]


class Stages(logging.Handler):
    """When the push server began reading each pushed run and when it committed it, from the
    sync's timing log (``tempox.sync.timing``, whose records name the hints they serve)."""

    def __init__(self, external_id: Callable[[SyncHint], str]) -> None:
        super().__init__(logging.DEBUG)
        self.external_id = external_id
        self.read: dict[str, float] = {}
        self.committed: dict[str, float] = {}

    def emit(self, record: logging.LogRecord) -> None:
        hints: tuple[SyncHint, ...] = getattr(record, "hints", ())
        message = str(record.msg)
        into = (
            self.read
            if message.startswith("hinted fetch starts")
            else self.committed
            if message.startswith("hinted batch committed")
            else None
        )
        if into is not None:
            for h in hints:
                into.setdefault(self.external_id(h), record.created)

    @contextmanager
    def recording(self) -> Iterator[None]:
        timing = logging.getLogger("tempox.sync.timing")
        level = timing.level
        timing.setLevel(logging.DEBUG)
        timing.addHandler(self)
        try:
            yield
        finally:
            timing.removeHandler(self)
            timing.setLevel(level)

    def keep_listening(self) -> None:
        """Prefect's and uvicorn's logging set-up (``dictConfig``) disables loggers that
        existed before it; listen again."""
        logging.getLogger("tempox.sync.timing").disabled = False


# -- when runs show in GraphQL ----------------------------------------------------------------


class Watcher:
    """Polls one Tempox for the runs it is given until each has a final status."""

    def __init__(self, tempox: PushedTempox) -> None:
        self.tempox = tempox
        self.pending: dict[str, None] = {}
        self.seen: dict[str, float] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def watch(self, run_id: str) -> None:
        with self._lock:
            if run_id not in self.seen:
                self.pending[run_id] = None

    def wait(self, run_ids: Sequence[str], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while any(r not in self.seen for r in run_ids):
            if time.monotonic() > deadline:
                raise TimeoutError(f"runs not visible within {timeout:.0f}s: {run_ids}")
            time.sleep(POLL_S)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def _loop(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                pending = list(self.pending)
            for run_id in pending:
                with contextlib.suppress(Exception):  # a busy server: ask again
                    if self.tempox.run_status(run_id) in DONE:
                        self.seen[run_id] = time.time()
                        with self._lock:
                            self.pending.pop(run_id, None)
            time.sleep(POLL_S)


# -- the tools --------------------------------------------------------------------------------


@dataclass
class Tool:
    """A running tool wired to push to one Tempox: ``run()`` makes a run and returns its id
    (as Tempox names it) and the tool's end time (epoch seconds) once it has finished."""

    source: dict[str, Any]
    run: Callable[[], tuple[str, float]]
    stop: Callable[[], None]
    external_id: Callable[[SyncHint], str] = lambda h: str(h.run_id)  # Tempox's name for it


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def airflow_tool(home: Path, push_url: str, token: str) -> Tool:
    (home / "plugins").mkdir(parents=True)
    shutil.copy(EXAMPLES / "airflow" / "plugins" / "tempox_push.py", home / "plugins")
    env = {"TEMPOX_URL": push_url, "TEMPOX_SOURCE": SOURCE, "TEMPOX_TOKEN": token}
    # Tempox's adapter reads the password from its environment at every sync.
    os.environ.setdefault(PASSWORD_ENV, PASSWORD)
    with _environment(env):
        stack = AirflowStack.start(home, DAGS, expect_dags=len(DAG_IDS))
    stack.wait_quiet()

    def run() -> tuple[str, float]:
        run_id = stack.trigger("tempox_etl")
        stack.wait_for_runs([("tempox_etl", run_id)])
        found = stack.api("GET", f"/dags/tempox_etl/dagRuns/{run_id}")
        return f"tempox_etl/{run_id}", _epoch(found["end_date"])

    source = {
        "kind": "airflow",
        "base_url": stack.url,
        "username": USERNAME,
        "password_env": PASSWORD_ENV,
    }
    # Tempox names an Airflow dag run "<dag id>/<run id>".
    return Tool(source, run, stack.stop, lambda h: f"{h.pipeline}/{h.run_id}")


def prefect_tool(home: Path, push_url: str, token: str) -> Tool:
    server = PrefectServer.start(home)
    env = server.env(client=True) | {
        "TEMPOX_URL": push_url,
        "TEMPOX_SOURCE": SOURCE,
        "TEMPOX_TOKEN": token,
    }
    recipe = EXAMPLES / "prefect" / "tempox_automation.py"
    subprocess.run([str(server.bin / "python"), str(recipe)], env=env, check=True, timeout=300)

    def run() -> tuple[str, float]:
        done = subprocess.run(
            [str(server.bin / "python"), str(PREFECT_FLOWS), "ok"],
            env=server.env(client=True),
            cwd=server.home,
            capture_output=True,
            text=True,
            timeout=300,
        )
        found = re.search(r"^RUN (\S+)$", done.stdout, re.MULTILINE)
        if found is None:
            raise RuntimeError(f"the flow did not run:\n{done.stdout}{done.stderr}")
        run_id = found.group(1)
        return run_id, _epoch(server.api("GET", f"/flow_runs/{run_id}")["end_time"])

    return Tool({"kind": "prefect", "api_url": server.url}, run, server.stop)


def dagster_tool(home: Path, push_url: str, token: str) -> Tool:
    server = DagsterServer.start(home, DAGSTER_DEFS, DAGSTER_MODULE)
    env = server.env() | {"TEMPOX_URL": push_url, "TEMPOX_SOURCE": SOURCE, "TEMPOX_TOKEN": token}
    argv = [str(server.bin / "dagster-daemon"), "run", "-m", DAGSTER_MODULE]
    daemon = Service("dagster-daemon", [*argv, "-d", str(DAGSTER_DEFS)], env, home, DAGSTER_DEFS)
    latest = """query($job: String!) { runsOrError(filter: {pipelineName: $job}, limit: 1) {
      ... on Runs { results { runId endTime } } } }"""

    def run() -> tuple[str, float]:
        args = ["job", "execute", "-m", DAGSTER_MODULE, "-d", str(DAGSTER_DEFS)]
        server.cli([*args, "-j", "push_ok_job"])
        [found] = server.graphql(latest, {"job": "push_ok_job"})["runsOrError"]["results"]
        return str(found["runId"]), float(found["endTime"])

    def stop() -> None:
        daemon.stop()
        server.stop()

    return Tool({"kind": "dagster", "url": server.url}, run, stop)


STARTERS = {"airflow": airflow_tool, "prefect": prefect_tool, "dagster": dagster_tool}


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """``values`` in ``os.environ`` while the block runs (the Airflow processes inherit it)."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


# -- one tool, both ways ----------------------------------------------------------------------


@dataclass
class Sample:
    run_id: str
    finished_at: float
    pushed_at: float | None
    push_visible_at: float
    poll_visible_at: float | None = None
    read_at: float | None = None  # the push server began reading the run
    committed_at: float | None = None  # ... and committed it

    def stages(self) -> tuple[float | None, float | None, float | None]:
        """Push reached Tempox → its read began → committed → visible in GraphQL."""
        pushed, read, committed = self.pushed_at, self.read_at, self.committed_at
        return (
            None if pushed is None or read is None else read - pushed,
            None if read is None or committed is None else committed - read,
            None if committed is None else self.push_visible_at - committed,
        )

    @property
    def push_s(self) -> float:
        return self.push_visible_at - self.finished_at

    @property
    def notification_s(self) -> float | None:
        return None if self.pushed_at is None else self.pushed_at - self.finished_at

    @property
    def after_notification_s(self) -> float | None:
        return None if self.pushed_at is None else self.push_visible_at - self.pushed_at

    @property
    def poll_s(self) -> float | None:
        return None if self.poll_visible_at is None else self.poll_visible_at - self.finished_at


@dataclass
class ToolResult:
    tool: str
    runs: int
    interval_s: float
    samples: list[Sample] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        def stats(values: list[float]) -> dict[str, float] | None:
            if not values:
                return None
            ordered = sorted(values)
            p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
            return {"median_s": statistics.median(ordered), "p95_s": p95, "n": len(ordered)}

        return {
            "tool": self.tool,
            "runs": self.runs,
            "interval_s": self.interval_s,
            "push": stats([s.push_s for s in self.samples]),
            "after_notification": stats(
                [x for s in self.samples if (x := s.after_notification_s) is not None]
            ),
            "notification": stats([x for s in self.samples if (x := s.notification_s) is not None]),
            "stages": {
                name: stats([x for s in self.samples if (x := s.stages()[i]) is not None])
                for i, name in enumerate(("push_to_read", "read_to_commit", "commit_to_visible"))
            },
            "poll": stats([x for s in self.samples if (x := s.poll_s) is not None]),
            "samples": [asdict(s) for s in self.samples],
        }


def measure(tool: str, runs: int, interval: str, root: Path) -> ToolResult:
    interval_s = float(interval.rstrip("s"))
    result = ToolResult(tool, runs, interval_s)
    arrivals = Arrivals()
    push_store = Store(f"sqlite:///{root / 'push.db'}")
    poll_store = Store(f"sqlite:///{root / 'poll.db'}")
    port, token = free_port(), ingest_token(push_store)
    started = STARTERS[tool](root / tool, f"http://127.0.0.1:{port}", token)
    watchers: list[Watcher] = []
    stages = Stages(started.external_id)
    try:
        with ExitStack() as stack:
            stack.enter_context(arrivals.recording())
            stack.enter_context(stages.recording())
            push = stack.enter_context(
                tempox_for(push_store, started.source, "1h", port=port, token=token)
            )
            poll = stack.enter_context(tempox_for(poll_store, started.source, interval))
            push_watch, poll_watch = Watcher(push), Watcher(poll)
            watchers += [push_watch, poll_watch]
            arrivals.on_arrival += [push_watch.watch, poll_watch.watch]
            arrivals.external_id = started.external_id
            for i in range(runs):
                stages.keep_listening()
                run_id, finished = started.run()
                push_watch.watch(run_id)
                poll_watch.watch(run_id)
                push_watch.wait([run_id], timeout=120)
                result.samples.append(
                    Sample(run_id, finished, arrivals.at.get(run_id), push_watch.seen[run_id])
                )
                print(f"{tool} run {i + 1}/{runs}: pushed {result.samples[-1].push_s:.2f}s")
            poll_watch.wait([s.run_id for s in result.samples], timeout=interval_s * 3 + 120)
            for s in result.samples:
                s.poll_visible_at = poll_watch.seen.get(s.run_id)
                s.read_at = stages.read.get(s.run_id)
                s.committed_at = stages.committed.get(s.run_id)
    finally:
        for w in watchers:
            w.close()
        started.stop()
        push_store.close()
        poll_store.close()
    return result


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.push_latency", description=__doc__)
    parser.add_argument("--runs", type=int, default=20, help="runs per tool (default 20)")
    parser.add_argument("--interval", default="60s", help="the polling server's interval")
    parser.add_argument("--tools", nargs="+", choices=TOOLS, default=list(TOOLS))
    parser.add_argument("--output", type=Path, default=HERE / "results" / "push_latency.json")
    args = parser.parse_args(argv)
    results = []
    for tool in args.tools:
        with tempfile.TemporaryDirectory(prefix=f"push-{tool}-") as root:
            results.append(measure(tool, args.runs, args.interval, Path(root)).summary())
    out = {"runs": args.runs, "interval": args.interval, "tools": results}
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(out, indent=2))
    print(report(out))
    return out


def report(out: dict[str, Any]) -> str:
    def cell(stats: dict[str, float] | None) -> str:
        return "n/a" if stats is None else f"{stats['median_s']:.2f} / {stats['p95_s']:.2f}"

    lines = [
        f"Runs per tool: {out['runs']}; polling interval {out['interval']}. "
        "Seconds, median / p95, from the tool marking the run finished to GraphQL answering it.",
        "",
        "| tool | pushed | of which after the push reached Tempox | polled "
        "| the tool's notification delay |",
        "|---|---|---|---|---|",
    ]
    for r in out["tools"]:
        lines.append(
            f"| {r['tool']} | {cell(r['push'])} | {cell(r['after_notification'])} "
            f"| {cell(r['poll'])} | {cell(r.get('notification'))} |"
        )
    lines += [
        "",
        "Tempox's share, by stage (seconds, median / p95): the push reaching Tempox → the "
        "pushed run's read beginning (scheduler woken, lease claimed, adapter taken) → that "
        "read committed → GraphQL answering it (polled every 25 ms).",
        "",
        "| tool | push → read begins | read → committed | committed → visible |",
        "|---|---|---|---|",
    ]
    for r in out["tools"]:
        st = r.get("stages", {})
        lines.append(
            f"| {r['tool']} | {cell(st.get('push_to_read'))} | {cell(st.get('read_to_commit'))} "
            f"| {cell(st.get('commit_to_visible'))} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
