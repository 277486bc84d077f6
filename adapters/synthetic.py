"""A generated estate: pipelines, runs, task runs, assets and cross-pipeline lineage.

Deterministic for a given config: the same seed gives the same records, to the timestamp. It
backs the demo, the tests and the benchmarks, so records are built lazily, one batch at a time.

Runs are numbered in one fixed order, round by round (run ``r`` of every pipeline, then run
``r + 1``), so the cursor ``{"runs_emitted": N}`` means "the first N runs are in" and raising
``runs_per_pipeline`` later emits only the new rounds. Changing ``pipelines`` or ``seed``
describes a different estate. Every run is generated from its own seed, so a run looks the same
whichever batch (or sync) it lands in.

Lineage: each pipeline is a small DAG (extract tasks fanning in, then a chain); each asset is
written by one task and read by the next task of its pipeline; the first extract task of
pipeline ``p`` reads an asset of pipeline ``p - 1``, so the whole estate is one connected graph.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from random import Random
from typing import ClassVar

from pydantic import Field, field_validator

from catalog.adapter import Adapter, AdapterConfig
from catalog.enums import AssetEventKind, RunStatus, TriggerKind
from catalog.errors import AdapterError
from catalog.records import (
    AssetEventRecord,
    AssetRecord,
    Batch,
    CheckResultRecord,
    Cursor,
    EdgeRecord,
    NodeRef,
    PipelineRecord,
    RunRecord,
    TaskRecord,
    TaskRunRecord,
)

UI = "https://synthetic.invalid"
DOMAINS = ("sales", "finance", "marketing", "product", "ops", "support", "growth", "risk")
ENTITIES = (
    "orders",
    "customers",
    "invoices",
    "payments",
    "sessions",
    "shipments",
    "refunds",
    "leads",
    "tickets",
    "inventory",
    "subscriptions",
    "campaigns",
    "accounts",
)
FLOWS = ("etl", "rollup", "sync", "ingest", "snapshot", "report", "features", "export")
SCHEDULES = (("*/15 * * * *", 900), ("@hourly", 3600), ("0 */6 * * *", 21600), ("@daily", 86400))
SCHEDULE_WEIGHTS = (1, 4, 2, 5)
TRIGGERS = (
    (0.85, TriggerKind.SCHEDULED),
    (0.93, TriggerKind.MANUAL),
    (0.97, TriggerKind.EVENT),
    (1.0, TriggerKind.BACKFILL),
)
ERRORS = (
    'psycopg.errors.UndefinedTable: relation "staging.{entity}" does not exist',
    "TimeoutError: query exceeded 900 seconds",
    "KeyError: 'customer_id'",
    "botocore.exceptions.ClientError: An error occurred (AccessDenied) when calling GetObject",
    "OOMKilled: container exceeded its 4Gi memory limit",
    "AssertionError: row count 0 is below the minimum of 1000",
    "requests.exceptions.HTTPError: 503 Server Error: Service Unavailable",
)
TRANSIENT = "ConnectionResetError: [Errno 104] Connection reset by peer"
RETRY_RATE = 0.04
CANCEL_RATE = 0.01
CHECK_EVERY = 7  # every 7th asset has a data-quality check
PRODUCED, CONSUMED = AssetEventKind.PRODUCED, AssetEventKind.CONSUMED
TASK_KINDS = {
    "extract": "PythonOperator",
    "transform": "SQLExecuteQueryOperator",
    "load": "SQLExecuteQueryOperator",
}


class SyntheticConfig(AdapterConfig):
    pipelines: int = Field(default=10, ge=1, le=1_000_000)
    tasks_per_pipeline: int = Field(default=5, ge=1, le=1000)
    runs_per_pipeline: int = Field(default=20, ge=0, le=1_000_000)
    assets: int = Field(default=30, ge=0)
    failure_rate: float = Field(default=0.1, ge=0, le=1)
    seed: int = 0
    batch_size: int = Field(default=500, ge=1, description="runs per batch")
    start: datetime = datetime(2026, 1, 5, tzinfo=UTC)
    delay_s: float = Field(default=0.0, ge=0, description="sleep between batches (tests)")
    outputs_per_task_run: int | None = Field(
        default=None, ge=1, description="assets a task run writes (default: all of its outputs)"
    )
    owners: tuple[str, ...] = Field(
        default=(
            "ann@example.com",
            "bo@example.com",
            "chen@example.com",
            "dara@example.com",
            "eli@example.com",
            "fatima@example.com",
        ),
        min_length=1,
    )
    teams: tuple[str, ...] = Field(
        default=("data-eng", "analytics", "ml-platform", "finance-data"), min_length=1
    )

    @field_validator("start")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class _Output:
    uri: str
    rows: int  # typical row count
    checked: bool
    event_suffix: str  # run id + this: the event's id
    check_suffix: str


@dataclass(slots=True)
class _Pipe:
    """One pipeline: what its runs need, computed once per sync."""

    id: str
    domain: str
    entity: str
    team: str
    interval: float  # seconds between scheduled runs
    tasks: tuple[str, ...]  # in topological order
    upstream: tuple[tuple[int, ...], ...]
    descendants: tuple[frozenset[int], ...]
    base_s: tuple[float, ...]  # typical task durations
    slowdown: tuple[float, ...]  # per-run growth of each task's duration
    produces: tuple[list[_Output], ...]  # per task
    reads: tuple[list[tuple[str, str]], ...]  # per task: (asset uri, event id suffix)


@dataclass(frozen=True, slots=True)
class _Estate:
    pipelines: tuple[PipelineRecord, ...]
    tasks: tuple[TaskRecord, ...]
    assets: tuple[AssetRecord, ...]
    edges: tuple[EdgeRecord, ...]
    pipes: tuple[_Pipe, ...]


class SyntheticAdapter(Adapter[SyntheticConfig]):
    """``kind = "synthetic"``: a realistic estate made up from a seed, for demos and tests."""

    kind: ClassVar[str] = "synthetic"
    config_class: ClassVar[type[AdapterConfig]] = SyntheticConfig

    @property
    def base_url(self) -> str | None:
        return UI

    def fetch(self, cursor: Cursor | None) -> Iterator[Batch]:
        cfg = self.config
        done = self._runs_emitted(cursor)
        estate = _build_estate(cfg)
        total = cfg.pipelines * cfg.runs_per_pipeline
        end = max(done, min(done + cfg.batch_size, total))
        runs = _RunWriter(cfg, estate.pipes, done, end)
        # Definitions go with the first batch of every sync, so edits to them land too.
        yield Batch(
            cursor={"runs_emitted": end},
            pipelines=estate.pipelines,
            tasks=estate.tasks,
            assets=estate.assets,
            edges=estate.edges,
            runs=tuple(runs.runs),
            task_runs=tuple(runs.task_runs),
            asset_events=tuple(runs.events),
            check_results=tuple(runs.checks),
            notices=(),
        )
        while end < total:
            if cfg.delay_s:
                time.sleep(cfg.delay_s)
            done, end = end, min(end + cfg.batch_size, total)
            runs = _RunWriter(cfg, estate.pipes, done, end)
            yield Batch(
                cursor={"runs_emitted": end},
                runs=tuple(runs.runs),
                task_runs=tuple(runs.task_runs),
                asset_events=tuple(runs.events),
                check_results=tuple(runs.checks),
            )

    def _runs_emitted(self, cursor: Cursor | None) -> int:
        if cursor is None:
            return 0
        value = cursor.get("runs_emitted")
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise AdapterError(
                f"source {self.name!r}: cursor {dict(cursor)!r} is not a "
                "synthetic cursor (expected runs_emitted: a count)"
            )
        return value


def _build_estate(cfg: SyntheticConfig) -> _Estate:
    rng = Random(cfg.seed)
    pipelines: list[PipelineRecord] = []
    tasks: list[TaskRecord] = []
    pipes: list[_Pipe] = []
    for p in range(cfg.pipelines):
        pipeline, pipe = _pipeline(p, cfg, rng)
        pipelines.append(pipeline)
        pipes.append(pipe)
        tasks.extend(
            TaskRecord(
                pipe.id,
                task,
                kind=TASK_KINDS[task.split("_")[0]],
                upstream=tuple(pipe.tasks[u] for u in pipe.upstream[i]),
            )
            for i, task in enumerate(pipe.tasks)
        )
    assets, edges = _assets(cfg, pipes, rng)
    edges.extend(_cross_pipeline_reads(cfg, pipes, assets, rng))
    return _Estate(tuple(pipelines), tuple(tasks), tuple(assets), tuple(edges), tuple(pipes))


def _pipeline(p: int, cfg: SyntheticConfig, rng: Random) -> tuple[PipelineRecord, _Pipe]:
    domain, entity, flow = rng.choice(DOMAINS), rng.choice(ENTITIES), rng.choice(FLOWS)
    pid = f"{domain}_{entity}_{flow}_{p:04d}"
    schedule, interval = rng.choices(SCHEDULES, SCHEDULE_WEIGHTS)[0]
    team = rng.choice(cfg.teams)
    tags = [f"domain={domain}", f"tier={rng.randint(1, 3)}"]
    if interval == 86400:
        tags.append("nightly")
    if entity in ("customers", "accounts", "payments"):
        tags.append("pii")
    owner = rng.choice(cfg.owners)
    paused = rng.random() < 0.03  # drawn after the owner, as always: the same seed, the same estate
    record = PipelineRecord(
        pid,
        f"{domain.title()} {entity} {flow}",
        description=f"{flow.title()} of {domain} {entity}",
        owners=(owner, team),
        tags=tuple(tags),
        schedule=schedule,
        paused=paused,
        schedule_active=not paused,
        ui_url=f"{UI}/pipelines/{pid}",
    )
    ids, upstream = _dag(cfg.tasks_per_pipeline, rng)
    pipe = _Pipe(
        id=pid,
        domain=domain,
        entity=entity,
        team=team,
        interval=float(interval),
        tasks=ids,
        upstream=upstream,
        descendants=_descendants(upstream),
        base_s=tuple(rng.uniform(10, 600) for _ in ids),
        slowdown=tuple(0.003 if rng.random() < 0.1 else 0.0 for _ in ids),  # "getting slower"
        produces=tuple([] for _ in ids),
        reads=tuple([] for _ in ids),
    )
    return record, pipe


def _assets(
    cfg: SyntheticConfig, pipes: list[_Pipe], rng: Random
) -> tuple[list[AssetRecord], list[EdgeRecord]]:
    """Asset ``a`` belongs to pipeline ``a % pipelines``, written by one of its tasks and read
    by the next."""
    assets: list[AssetRecord] = []
    edges: list[EdgeRecord] = []
    for a in range(cfg.assets):
        pipe, slot = pipes[a % cfg.pipelines], a // cfg.pipelines
        # A pipeline's first asset is its final output: the one the next pipeline reads.
        i = len(pipe.tasks) - 1 if slot == 0 else rng.randrange(len(pipe.tasks))
        task = pipe.tasks[i]
        if task.startswith("extract"):
            uri = f"s3://lake/raw/{pipe.domain}/{pipe.entity}_{a}"
            kind, alias = "s3", f"raw/{pipe.entity}_{a}"
        else:
            uri = f"postgres://warehouse:5432/analytics.public.table_{a}"
            kind, alias = "postgres", f"analytics/table_{a}"
        assets.append(
            AssetRecord(
                uri,
                alias=alias,
                kind=kind,
                description=f"{pipe.entity.title()} from {pipe.id}",
                owners=(pipe.team,),
                tags=(f"domain={pipe.domain}",),
                freshness_max_age_s=2 * pipe.interval + 3600 if rng.random() < 0.3 else None,
            )
        )
        pipe.produces[i].append(
            _Output(
                uri,
                rng.randint(1_000, 50_000),
                a % CHECK_EVERY == 0,
                f":{task}:produced:{a}",
                f":{task}:check:{a}",
            )
        )
        edges.append(
            EdgeRecord(NodeRef.of_task(pipe.id, task), NodeRef.asset(uri), seen_at=cfg.start)
        )
        child = next((j for j, ups in enumerate(pipe.upstream) if i in ups), None)
        if child is not None:
            reader = NodeRef.of_task(pipe.id, pipe.tasks[child])
            edges.append(EdgeRecord(NodeRef.asset(uri), reader, seen_at=cfg.start))
    return assets, edges


def _cross_pipeline_reads(
    cfg: SyntheticConfig, pipes: list[_Pipe], assets: list[AssetRecord], rng: Random
) -> list[EdgeRecord]:
    """Pipeline ``p`` reads an output of an earlier pipeline: the estate is one graph."""
    edges: list[EdgeRecord] = []
    if not assets:
        return edges
    for p, pipe in enumerate(pipes[1:], start=1):
        # Assets below min(assets, p) are final outputs of pipelines before p.
        wanted = {(p - 1) % len(assets)}
        if rng.random() < 0.3:
            wanted.add(rng.randrange(min(len(assets), p)))
        for a in sorted(wanted):
            pipe.reads[0].append((assets[a].uri, f":{pipe.tasks[0]}:consumed:{a}"))
            reader = NodeRef.of_task(pipe.id, pipe.tasks[0])
            edges.append(EdgeRecord(NodeRef.asset(assets[a].uri), reader, seen_at=cfg.start))
    return edges


def _dag(n: int, rng: Random) -> tuple[tuple[str, ...], tuple[tuple[int, ...], ...]]:
    """Task ids in topological order and their upstream indexes: extracts fan in to a chain."""
    n_extract = max(1, (n + 1) // 3) if n > 2 else 1
    ids: list[str] = []
    upstream: list[tuple[int, ...]] = []
    for i in range(n):
        stage = "extract" if i < n_extract else "load" if i == n - 1 else "transform"
        ids.append(f"{stage}_{i}")
        if i < n_extract:
            upstream.append(())
        elif i == n_extract:
            upstream.append(tuple(range(n_extract)))
        elif i - 2 >= n_extract and rng.random() < 0.2:
            upstream.append((i - 2, i - 1))
        else:
            upstream.append((i - 1,))
    return tuple(ids), tuple(upstream)


def _descendants(upstream: tuple[tuple[int, ...], ...]) -> tuple[frozenset[int], ...]:
    below: list[set[int]] = [set() for _ in upstream]
    for j in reversed(range(len(upstream))):  # topological order: children come later
        for u in upstream[j]:
            below[u].add(j)
            below[u] |= below[j]
    return tuple(frozenset(b) for b in below)


class _RunWriter:
    """The records of runs ``start`` to ``end`` (in the fixed order), each from its own seed."""

    def __init__(self, cfg: SyntheticConfig, pipes: tuple[_Pipe, ...], start: int, end: int):
        self.cfg = cfg
        self.pipes = pipes
        self.rng = Random()
        self.runs: list[RunRecord] = []
        self.task_runs: list[TaskRunRecord] = []
        self.events: list[AssetEventRecord] = []
        self.checks: list[CheckResultRecord] = []
        for k in range(start, end):
            self.add(k % cfg.pipelines, k // cfg.pipelines)

    def add(self, p: int, r: int) -> None:
        cfg, pipe, rng = self.cfg, self.pipes[p], self.rng
        # One seed per (seed, pipeline, run), distinct while both stay below 1,000,003: a run
        # looks the same whichever batch or sync generates it.
        rng.seed((cfg.seed * 1_000_003 + p) * 1_000_003 + r)
        run_id = f"{pipe.id}:{r}"
        run_url = f"{UI}/pipelines/{pipe.id}/runs/{r}"
        logical = cfg.start + timedelta(seconds=r * pipe.interval)
        queued = logical + timedelta(seconds=rng.uniform(0, 30))
        started = queued + timedelta(seconds=rng.uniform(1, 20))
        u = rng.random()
        trigger = next(kind for bound, kind in TRIGGERS if u < bound)
        u = rng.random()
        n = len(pipe.tasks)
        failed_at = rng.randrange(n) if u < cfg.failure_rate else -1
        cancelled_at = (
            rng.randrange(n) if failed_at < 0 and u < cfg.failure_rate + CANCEL_RATE else -1
        )
        broken = max(failed_at, cancelled_at)  # at most one of them is set
        stopped = pipe.descendants[broken] if broken >= 0 else frozenset()
        ends: list[datetime] = [started] * n
        last_end = started
        error: str | None = None
        for i, task in enumerate(pipe.tasks):
            if i in stopped:
                status = RunStatus.UPSTREAM_FAILED if failed_at >= 0 else RunStatus.NOT_RUN
                self.task_runs.append(TaskRunRecord(run_id, task, status, raw_status=status.value))
                continue
            begin = max((ends[j] for j in pipe.upstream[i]), default=started)
            begin += timedelta(seconds=rng.uniform(0.5, 5))
            took = pipe.base_s[i] * (1 + pipe.slowdown[i] * r) * rng.uniform(0.7, 1.4)
            first_begin, attempt = begin, 1
            if i != failed_at and i != cancelled_at and rng.random() < RETRY_RATE:
                end = begin + timedelta(seconds=took * rng.uniform(0.05, 0.5))
                self._task_run(run_id, run_url, task, 1, RunStatus.FAILED, begin, end, TRANSIENT)
                begin, attempt = end + timedelta(seconds=60), 2
            end = begin + timedelta(seconds=took)
            if i == failed_at:
                message = rng.choice(ERRORS).format(entity=pipe.entity)
                error = f"task {task} failed: {message}"
                self._task_run(
                    run_id, run_url, task, attempt, RunStatus.FAILED, begin, end, message
                )
            elif i == cancelled_at:
                error = f"cancelled by a user while {task} was running"
                self._task_run(
                    run_id, run_url, task, attempt, RunStatus.CANCELLED, begin, end, None
                )
            else:
                self._task_run(run_id, run_url, task, attempt, RunStatus.SUCCESS, begin, end, None)
                self._produced(run_id, task, attempt, end, self._due(pipe.produces[i], r), rng)
            for uri, suffix in pipe.reads[i]:
                self.events.append(
                    AssetEventRecord(
                        uri,
                        CONSUMED,
                        first_begin,
                        run_id=run_id,
                        task_id=task,
                        attempt=1,
                        external_id=run_id + suffix,
                    )
                )
            ends[i] = end
            last_end = max(last_end, end)
        status = (
            RunStatus.FAILED
            if failed_at >= 0
            else RunStatus.CANCELLED
            if cancelled_at >= 0
            else RunStatus.SUCCESS
        )
        self.runs.append(
            RunRecord(
                pipe.id,
                run_id,
                status,
                raw_status=status.value,
                trigger=trigger,
                logical_date=logical,
                queued_at=queued,
                started_at=started,
                ended_at=last_end,
                error=error,
                ui_url=run_url,
            )
        )

    def _due(self, outputs: list[_Output], r: int) -> list[_Output]:
        """The outputs run ``r`` materialises: all, or a window that rotates through them."""
        cap = self.cfg.outputs_per_task_run
        if cap is None or cap >= len(outputs):
            return outputs
        return [outputs[(r * cap + j) % len(outputs)] for j in range(cap)]

    def _task_run(
        self,
        run_id: str,
        run_url: str,
        task: str,
        attempt: int,
        status: RunStatus,
        begin: datetime,
        end: datetime,
        error: str | None,
    ) -> None:
        self.task_runs.append(
            TaskRunRecord(
                run_id,
                task,
                status,
                attempt=attempt,
                raw_status=status.value,
                queued_at=begin,
                started_at=begin,
                ended_at=end,
                error=error,
                log_url=f"{run_url}/tasks/{task}/{attempt}/log" if error else None,
            )
        )

    def _produced(
        self,
        run_id: str,
        task: str,
        attempt: int,
        at: datetime,
        outputs: list[_Output],
        rng: Random,
    ) -> None:
        for out in outputs:
            self.events.append(
                AssetEventRecord(
                    out.uri,
                    PRODUCED,
                    at,
                    run_id=run_id,
                    task_id=task,
                    attempt=attempt,
                    row_count=int(out.rows * rng.uniform(0.9, 1.1)),
                    external_id=run_id + out.event_suffix,
                )
            )
            if out.checked:
                self.checks.append(
                    CheckResultRecord(
                        out.uri,
                        "row_count_in_range",
                        passed=rng.random() > 0.05,
                        at=at,
                        severity="error" if out.rows % 2 else "warn",
                        run_id=run_id,
                        external_id=run_id + out.check_suffix,
                    )
                )
