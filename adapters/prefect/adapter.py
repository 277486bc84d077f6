"""The Prefect 3 adapter: pulls flows, deployments, flow runs, task runs (every attempt) and
asset events from a Prefect server or Cloud workspace with ``prefect-client``.

Prefect has no "updated since" filter on flow runs, so a sync reads, by the server's own clock:

1. flows and deployments (every sync: small, and schedules or pause switches change in place);
2. flow runs whose expected start falls between the last sync's start (minus ``overlap``) and
   now, flow runs that ended in that window, and every due flow run still late, awaiting a
   retry, pending, running or paused — de-duplicated by id. Runs scheduled for later have not
   happened and are left alone until they are due;
3. the task runs of those flow runs, and for a task run that ran more than once its state
   history, which tells its attempts apart;
4. asset events (``prefect.asset.*``) that occurred in the window.

Each flow run comes with its task runs in one batch. A subflow's run names its parent flow run,
found through the parent's task run that called it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from uuid import UUID

from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterEndTime,
    FlowRunFilterExpectedStartTime,
    FlowRunFilterId,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import FlowRun, StateType, TaskRun
from prefect.client.schemas.sorting import FlowRunSort, TaskRunSort
from prefect.events.filters import EventFilter, EventNameFilter, EventOccurredFilter
from prefect.events.schemas.events import Event

from adapters.prefect import mapping
from adapters.prefect.config import PrefectConfig
from adapters.prefect.session import NotFound, PrefectSession
from catalog.adapter import AdapterConfig, SessionAdapter, SyncHint
from catalog.records import (
    AssetEventRecord,
    AssetRecord,
    Batch,
    Cursor,
    EdgeRecord,
    RunRecord,
    TaskRunRecord,
)
from catalog.watermark import read_since

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Due runs that have not finished: late or awaiting a retry (SCHEDULED, due), pending, running,
# paused. Read again every sync until they finish.
UNFINISHED = [
    StateType.SCHEDULED,
    StateType.PENDING,
    StateType.RUNNING,
    StateType.PAUSED,
    StateType.CANCELLING,
]
CLOCK_SLACK = timedelta(seconds=5)
EVENT_PAGE = 50  # the server refuses the client's default of 100
FLOW_RUN_IDS_PER_QUERY = 50


class PrefectAdapter(SessionAdapter[PrefectConfig, PrefectSession]):
    kind: ClassVar[str] = "prefect"
    config_class: ClassVar[type[AdapterConfig]] = PrefectConfig

    def __init__(self, name: str, config: PrefectConfig) -> None:
        super().__init__(name, config)
        self.links = mapping.Links(config.ui_url or config.default_ui_url())
        # Flow names by id, kept from sync to sync: a flow's id never changes name, and a
        # pushed run's flow is then known without asking.
        self.flow_names: dict[UUID, str] = {}

    @property
    def base_url(self) -> str:
        return self.config.api_url

    def open_session(self) -> PrefectSession:
        return PrefectSession(self.name, self.config)

    def fetch(self, cursor: Cursor | None) -> Iterator[Batch]:
        return _Sync(self, read_since(self.name, "a Prefect", cursor)).run()

    def fetch_hinted(self, hints: Sequence[SyncHint], cursor: Cursor | None) -> Iterator[Batch]:
        """The flow runs a push named (``run_id`` = flow run id) with their task runs."""
        return _Sync(self, read_since(self.name, "a Prefect", cursor)).hinted(hints)


class _Sync:
    def __init__(self, adapter: PrefectAdapter, since: datetime | None) -> None:
        self.name = adapter.name
        self.s = adapter.session
        self.c = self.s.client
        self.links = adapter.links
        self.page = adapter.config.page_size
        self.after = since - adapter.config.overlap if since is not None else None
        self.now = self.until = datetime.now(UTC)
        self.flow_names = adapter.flow_names
        self.runs: dict[UUID, FlowRun] = {}  # read in this sync
        self.run_of_task_run: dict[UUID, UUID] = {}  # task run → its flow run
        self.task_of_task_run: dict[UUID, str] = {}  # task run → task id

    def run(self) -> Iterator[Batch]:
        definitions = self._definitions()
        # The server's clock, read from the first answer: the next sync starts from here.
        self.now = self.s.server_time or datetime.now(UTC)
        # ``Date`` drops the fraction of a second and uvicorn refreshes it once a second, so it
        # can lag the clock runs are stamped with; the queries look a little past it. What they
        # read twice is de-duplicated, and nothing is skipped: the cursor stays at ``now``.
        self.until = self.now + CLOCK_SLACK
        previous = {"since": (self.after + self.s.config.overlap).isoformat()} if self.after else {}
        yield Batch(cursor=previous, pipelines=definitions)
        for runs in self._flow_run_pages():
            yield self._runs_batch(runs, previous)
        yield from self._asset_events(previous)
        yield Batch(cursor={"since": self.now.isoformat()})

    def hinted(self, hints: Sequence[SyncHint]) -> Iterator[Batch]:
        runs: list[FlowRun] = []
        for h in hints:
            try:
                run_id = UUID(h.run_id or "")
            except ValueError:
                continue  # not a flow run id: the incremental sync finds what changed
            if run_id in self.runs:
                continue
            try:
                found = self.s.call(f"GET /flow_runs/{run_id}", self.c.read_flow_run, run_id)
            except NotFound:
                continue
            self.runs[found.id] = found
            runs.append(found)
        if runs:
            yield self._runs_batch(runs, {})

    # -- flows and deployments ------------------------------------------------------------------

    def _definitions(self) -> tuple[Any, ...]:
        flows = self._pages("POST /flows/filter", self.c.read_flows)
        deployments = self._pages("POST /deployments/filter", self.c.read_deployments)
        self.flow_names.update({f.id: f.name for f in flows})
        by_flow: dict[UUID, list[Any]] = {}
        for d in deployments:
            by_flow.setdefault(d.flow_id, []).append(d)
        return tuple(mapping.pipeline(f, by_flow.get(f.id, []), self.links) for f in flows)

    def _pages(self, what: str, method: Any, **kwargs: Any) -> list[Any]:
        out: list[Any] = []
        while True:
            page = self.s.call(what, method, limit=self.page, offset=len(out), **kwargs)
            out += page
            if len(page) < self.page:
                return out

    # -- flow runs ------------------------------------------------------------------------------

    def _flow_run_pages(self) -> Iterator[list[FlowRun]]:
        due = FlowRunFilterExpectedStartTime(after_=self.after, before_=self.until)
        queries = [
            ("expected start", FlowRunFilter(expected_start_time=due)),
            (
                "unfinished",
                FlowRunFilter(
                    state=FlowRunFilterState(type=FlowRunFilterStateType(any_=UNFINISHED)),
                    expected_start_time=FlowRunFilterExpectedStartTime(before_=self.until),
                ),
            ),
        ]
        if self.after is not None:
            queries.append(
                ("ended", FlowRunFilter(end_time=FlowRunFilterEndTime(after_=self.after)))
            )
        for label, query in queries:
            offset = 0
            while True:
                page = self.s.call(
                    f"POST /flow_runs/filter ({label})",
                    self.c.read_flow_runs,
                    flow_run_filter=query,
                    sort=FlowRunSort.EXPECTED_START_TIME_ASC,
                    limit=self.page,
                    offset=offset,
                )
                offset += len(page)
                fresh = [r for r in page if r.id not in self.runs]
                if fresh:
                    yield fresh
                if len(page) < self.page:
                    break

    def _runs_batch(self, runs: list[FlowRun], cursor: dict[str, Any]) -> Batch:
        for r in runs:
            self.runs[r.id] = r
        task_runs = self._task_runs([r.id for r in runs])
        by_id = {t.id: t for t in task_runs}
        for t in task_runs:
            if t.flow_run_id is not None:
                self.run_of_task_run[t.id] = t.flow_run_id
                self.task_of_task_run[t.id] = mapping.task_id(t.task_key)
        parents, extra = self._parents(runs)
        records = [
            mapping.run(r, self._flow_name(r), self.links, parents.get(r.id))
            for r in [*extra, *runs]
        ]
        tasks: dict[tuple[str, str], set[str]] = {}
        task_records: dict[tuple[str, str], TaskRun] = {}
        attempts: list[TaskRunRecord] = []
        for t in task_runs:
            if t.flow_run_id is None or t.flow_run_id not in self.runs:
                continue
            flow = self._flow_name(self.runs[t.flow_run_id])
            key = (flow, mapping.task_id(t.task_key))
            up = tasks.setdefault(key, set())
            up.update(
                mapping.task_id(by_id[u].task_key)
                for u in mapping.upstream_task_runs(t)
                if u in by_id
            )
            task_records[key] = t
            states = self._states(t) if t.run_count > 1 else None
            attempts += mapping.task_runs(t, states, self.links)
        return Batch(
            cursor=cursor,
            runs=tuple(records),
            tasks=tuple(
                mapping.task(task_records[k], k[0], tasks[k], self.links) for k in sorted(tasks)
            ),
            task_runs=tuple(attempts),
        )

    def _task_runs(self, flow_run_ids: list[UUID]) -> list[TaskRun]:
        out: list[TaskRun] = []
        for i in range(0, len(flow_run_ids), FLOW_RUN_IDS_PER_QUERY):
            ids = flow_run_ids[i : i + FLOW_RUN_IDS_PER_QUERY]
            query = FlowRunFilter(id=FlowRunFilterId(any_=ids))
            offset = 0
            while True:
                page = self.s.call(
                    "POST /task_runs/filter",
                    self.c.read_task_runs,
                    flow_run_filter=query,
                    sort=TaskRunSort.EXPECTED_START_TIME_ASC,
                    limit=self.page,
                    offset=offset,
                )
                out += page
                offset += len(page)
                if len(page) < self.page:
                    break
        return out

    def _states(self, t: TaskRun) -> list[Any]:
        states: list[Any] = self.s.call(
            f"GET /task_run_states/?task_run_id={t.id}", self.c.read_task_run_states, t.id
        )
        return states

    def _parents(self, runs: list[FlowRun]) -> tuple[dict[UUID, str], list[FlowRun]]:
        """Each subflow run's parent flow run id; parent runs this sync has not read yet."""
        parents: dict[UUID, str] = {}
        extra: list[FlowRun] = []
        for r in runs:
            if r.parent_task_run_id is None:
                continue
            parent = self.run_of_task_run.get(r.parent_task_run_id)
            if parent is None:
                try:
                    task_run = self.s.call(
                        f"GET /task_runs/{r.parent_task_run_id}",
                        self.c.read_task_run,
                        r.parent_task_run_id,
                    )
                except NotFound:
                    continue  # the parent's task run was deleted
                parent = task_run.flow_run_id
                if parent is None:
                    continue
                self.run_of_task_run[r.parent_task_run_id] = parent
            if parent not in self.runs:
                try:
                    found = self.s.call(f"GET /flow_runs/{parent}", self.c.read_flow_run, parent)
                except NotFound:
                    continue
                self.runs[parent] = found
                extra.append(found)
            parents[r.id] = str(parent)
        return parents, extra

    def _flow_name(self, r: FlowRun) -> str:
        if r.flow_id not in self.flow_names:
            flow = self.s.call(f"GET /flows/{r.flow_id}", self.c.read_flow, r.flow_id)
            self.flow_names[r.flow_id] = flow.name
        return self.flow_names[r.flow_id]

    # -- asset events ---------------------------------------------------------------------------

    def _asset_events(self, cursor: dict[str, Any]) -> Iterator[Batch]:
        query = EventFilter(
            occurred=EventOccurredFilter(since=self.after or EPOCH, until=self.until),
            event=EventNameFilter(name=list(mapping.ASSET_EVENTS)),
        )
        page = self.s.call(
            "POST /events/filter", self.c.read_events, filter=query, limit=EVENT_PAGE
        )
        while True:
            if page.events:
                yield self._events_batch(page.events, cursor)
            if not page.next_page:
                return
            page = self.s.call(
                "GET /events/filter/next", self.c.read_events_page, str(page.next_page)
            )

    def _events_batch(self, events: Iterable[Event], cursor: dict[str, Any]) -> Batch:
        records: list[AssetEventRecord] = []
        assets: dict[str, AssetRecord] = {}
        edges: list[EdgeRecord] = []
        extra_runs: list[RunRecord] = []
        for event in events:
            task_run = mapping.related_id(event, "task-run", "prefect.task-run.")
            flow_run = mapping.related_id(event, "flow-run", "prefect.flow-run.")
            task = self.task_of_task_run.get(task_run) if task_run else None
            if task_run is not None and task is None:
                task = self._task_of(task_run)
            flow_name = None
            if flow_run is not None and flow_run not in self.runs:
                extra_runs += self._read_run(flow_run)
            if flow_run is not None and flow_run in self.runs:
                flow_name = self._flow_name(self.runs[flow_run])
            run_id = str(flow_run) if flow_run in self.runs else None
            record, found_edges = mapping.asset_event(event, run_id, flow_name, task)
            records.append(record)
            edges += found_edges
            assets.setdefault(event.resource.id, mapping.asset(event))
        return Batch(
            cursor=cursor,
            runs=tuple(extra_runs),
            assets=tuple(assets.values()),
            asset_events=tuple(records),
            edges=tuple(edges),
        )

    def _task_of(self, task_run_id: UUID) -> str | None:
        try:
            found = self.s.call(f"GET /task_runs/{task_run_id}", self.c.read_task_run, task_run_id)
        except NotFound:
            return None
        self.task_of_task_run[task_run_id] = mapping.task_id(found.task_key)
        return self.task_of_task_run[task_run_id]

    def _read_run(self, flow_run_id: UUID) -> list[RunRecord]:
        """A flow run an event names that this sync has not read: it may predate the window."""
        try:
            found = self.s.call(f"GET /flow_runs/{flow_run_id}", self.c.read_flow_run, flow_run_id)
        except NotFound:
            return []
        self.runs[found.id] = found
        return [mapping.run(found, self._flow_name(found), self.links, None)]
