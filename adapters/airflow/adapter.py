"""The Airflow 3 adapter: pulls DAGs, tasks, dag runs, task instance tries, assets and asset
events from the REST API v2 (``apache-airflow-client``), with no code installed in Airflow.

A sync, in order (each step one or more batches):

1. DAGs (every sync: paused, owners and tags change without a new DAG version) and import
   errors (recorded on the source as notices).
2. Tasks, and assets with the edges DAG files declare — only for DAGs with a new DAG version
   since the last sync (all of them on the first).
3. Dag runs updated since the last sync (``updated_at`` watermark, keyset pages by id), and
   every run that is queued or running, so unfinished runs are read again until they finish
   (a page per 100 of them, not a request each).
4. Task instances updated since the last sync; for the ones tried more than once, every try.
5. Asset events since the last sync: which task run produced them, which runs they triggered.

The watermark is the server's own clock (the ``Date`` of its first answer) at the start of the
sync, minus ``overlap``: rows committed late or stamped by a skewed clock are read again, and
reading again is idempotent. A sync with nothing new costs about eight requests (more only per
100 unfinished runs and per failed run or try inside the overlap window).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar

from airflow_client.client.exceptions import ApiException
from airflow_client.client.models.asset_event_response import AssetEventResponse
from airflow_client.client.models.asset_response import AssetResponse
from airflow_client.client.models.dag_run_response import DAGRunResponse
from airflow_client.client.models.task_instance_response import TaskInstanceResponse

from adapters.airflow import mapping
from adapters.airflow.config import AirflowConfig
from adapters.airflow.session import AirflowSession
from catalog.adapter import AdapterConfig, SessionAdapter, SyncHint
from catalog.errors import AdapterError
from catalog.records import (
    AssetEventRecord,
    Batch,
    Cursor,
    EdgeRecord,
    RunRecord,
    TaskRunRecord,
)
from catalog.watermark import read_since, since_cursor

RunRef = tuple[str, str]  # (dag_id, dag_run_id)
HINTED_RUNS = 5  # a push that names a DAG but no run: its latest runs
log_problem = logging.getLogger("tempox.adapters.airflow")


class AirflowAdapter(SessionAdapter[AirflowConfig, AirflowSession]):
    kind: ClassVar[str] = "airflow"
    config_class: ClassVar[type[AdapterConfig]] = AirflowConfig

    def __init__(self, name: str, config: AirflowConfig) -> None:
        super().__init__(name, config)
        self.links = mapping.Links(config.ui_url or config.base_url)

    @property
    def base_url(self) -> str:
        return self.config.base_url

    def open_session(self) -> AirflowSession:
        return AirflowSession(self.name, self.config)

    def fetch(self, cursor: Cursor | None) -> Iterator[Batch]:
        return _Sync(self, _SyncCursor.read(self.name, cursor)).run()

    def fetch_hinted(self, hints: Sequence[SyncHint], cursor: Cursor | None) -> Iterator[Batch]:
        """The dag runs a push named (``pipeline`` = DAG id, ``run_id`` = dag run id; a DAG id
        alone: its latest runs) with their task instances."""
        return _Sync(self, _SyncCursor.read(self.name, cursor)).hinted(hints)


class _SyncCursor:
    """What a sync resumes from: the watermark (the server's time when the last sync began)."""

    def __init__(self, since: datetime | None) -> None:
        self.since = since

    @classmethod
    def read(cls, source: str, cursor: Cursor | None) -> _SyncCursor:
        return cls(read_since(source, "an Airflow", cursor))

    def dump(self) -> dict[str, Any]:
        return since_cursor(self.since)


class _Sync:
    def __init__(self, adapter: AirflowAdapter, cursor: _SyncCursor) -> None:
        self.adapter = adapter
        self.s = adapter.session
        self.links = adapter.links
        self.page = adapter.config.page_size
        self.cursor = cursor
        overlap = adapter.config.overlap
        self.after = cursor.since - overlap if cursor.since is not None else None
        self.runs: dict[RunRef, DAGRunResponse] = {}  # read in this sync
        self.errors: dict[tuple[str, str, str, int, int], str | None] = {}  # failed tries
        self.asset_uris: dict[int, str] = {}

    def run(self) -> Iterator[Batch]:
        same = self.cursor.dump()
        yield self._definitions(same)
        started = self.s.server_time or datetime.now(UTC)
        yield from self._dag_runs(same)
        yield from self._task_instances(same)
        yield from self._asset_events(same)
        yield Batch(cursor=_SyncCursor(started).dump())

    def hinted(self, hints: Sequence[SyncHint]) -> Iterator[Batch]:
        s = self.s
        runs: list[DAGRunResponse] = []
        for h in hints:
            if not h.pipeline:
                continue  # a dag run id is unique only within its DAG
            if h.run_id:
                found = self._get_run((h.pipeline, h.run_id))
                runs += [found] if found is not None else []
            else:
                page = s.call(
                    f"GET /dags/{h.pipeline}/dagRuns",
                    s.dag_runs.get_dag_runs,
                    dag_id=h.pipeline,
                    order_by=["-id"],
                    limit=HINTED_RUNS,
                )
                runs += page.dag_runs
        if not runs:
            return
        # One batch, so one commit: a finished run never shows without its task runs.
        batch = self._runs_batch(runs, {})
        tis: list[TaskInstanceResponse] = []
        for r in runs:
            # Every page: a run of more tasks than a page holds lands whole, not in two commits.
            tis += self._offset_pages(
                f"GET /dags/{r.dag_id}/dagRuns/{r.dag_run_id}/taskInstances",
                s.task_instances.get_task_instances,
                "task_instances",
                dag_id=r.dag_id,
                dag_run_id=r.dag_run_id,
                order_by=["id"],
            )
        if tis:
            more = self._task_instances_batch(tis, {})
            batch = dataclasses.replace(
                batch, runs=batch.runs + more.runs, task_runs=more.task_runs
            )
        yield batch

    # -- definitions ----------------------------------------------------------------------------

    def _definitions(self, cursor: dict[str, Any]) -> Batch:
        s = self.s
        dags = list(self._offset_pages("GET /dags", s.dags.get_dags, "dags", order_by=["dag_id"]))
        errors = self._offset_pages(
            "GET /importErrors", s.import_errors.get_import_errors, "import_errors", order_by=["id"]
        )
        notices = tuple(mapping.import_error_notice(e) for e in errors)
        changed = self._changed_dags({d.dag_id for d in dags})
        tasks = []
        for dag_id in sorted(changed):
            found = s.call(f"GET /dags/{dag_id}/tasks", s.tasks.get_tasks, dag_id=dag_id)
            tasks += mapping.tasks(dag_id, found.tasks, self.links)
        assets: list[AssetResponse] = []
        if changed or self.after is None:
            assets = list(
                self._offset_pages("GET /assets", s.assets.get_assets, "assets", order_by=["id"])
            )
        else:
            self.asset_uris = {}  # looked up on demand from events' own URIs
        self.asset_uris.update({a.id: a.uri for a in assets})
        edges = [e for a in assets for e in mapping.asset_edges(a)]
        return Batch(
            cursor=cursor,
            pipelines=tuple(mapping.pipeline(d, self.links) for d in dags),
            tasks=tuple(tasks),
            assets=tuple(mapping.asset(a) for a in assets),
            edges=tuple(edges),
            notices=notices,
        )

    def _changed_dags(self, dag_ids: set[str]) -> set[str]:
        """DAGs whose definition changed (a new DAG version) since the last sync."""
        if self.after is None:
            return dag_ids
        changed: set[str] = set()
        s, offset = self.s, 0
        # DAG version ids are UUIDv7, so newest first is "-id"; stop at the watermark.
        while True:
            page = s.call(
                "GET /dags/~/dagVersions",
                s.dag_versions.get_dag_versions,
                dag_id="~",
                order_by=["-id"],
                limit=self.page,
                offset=offset,
            )
            for v in page.dag_versions:
                if v.created_at < self.after:
                    return changed & dag_ids
                changed.add(v.dag_id)
            offset += len(page.dag_versions)
            if not page.dag_versions or offset >= page.total_entries:
                return changed & dag_ids

    # -- dag runs -------------------------------------------------------------------------------

    def _dag_runs(self, cursor: dict[str, Any]) -> Iterator[Batch]:
        s = self.s
        for page in self._keyset_pages(
            "GET /dags/~/dagRuns",
            s.dag_runs.get_dag_runs,
            "dag_runs",
            dag_id="~",
            updated_at_gte=self.after,
            order_by=["id"],
        ):
            yield self._runs_batch(page, cursor)
        if self.after is None:
            return  # every run was just read
        # Unfinished runs, read again until they finish: their state may not have moved, but
        # what is known about them (start, duration, tries) has.
        for page in self._keyset_pages(
            "GET /dags/~/dagRuns?state=queued,running",
            s.dag_runs.get_dag_runs,
            "dag_runs",
            dag_id="~",
            state=["queued", "running"],
            order_by=["id"],
        ):
            fresh = [r for r in page if (r.dag_id, r.dag_run_id) not in self.runs]
            if fresh:
                yield self._runs_batch(fresh, cursor)

    def _get_run(self, ref: RunRef) -> DAGRunResponse | None:
        dag_id, run_id = ref
        s = self.s
        try:
            found: DAGRunResponse = s.call(
                f"GET /dags/{dag_id}/dagRuns/{run_id}",
                s.dag_runs.get_dag_run,
                dag_id=dag_id,
                dag_run_id=run_id,
            )
        except AdapterError as exc:
            if isinstance(exc.__context__, ApiException) and exc.__context__.status == 404:
                return None  # deleted from Airflow since: nothing more will happen to it
            raise
        return found

    def _runs_batch(self, runs: list[DAGRunResponse], cursor: dict[str, Any]) -> Batch:
        records: list[RunRecord] = []
        consumed: list[AssetEventRecord] = []
        for r in runs:
            self.runs[(r.dag_id, r.dag_run_id)] = r
            triggering: list[int] = []
            if r.run_type is not None and r.run_type.value == "asset_triggered":
                for e in self._upstream_events(r):
                    if (uri := self._uri(e)) is not None:
                        consumed.append(mapping.consumed(e, uri, r.dag_id, r.dag_run_id))
                        triggering.append(e.id)
            failed = self._failed_tasks(r) if _run_failed(r) else None
            records.append(
                mapping.run(r, self.links, failed_tasks=failed, triggering_events=triggering)
            )
        return Batch(cursor=cursor, runs=tuple(records), asset_events=tuple(consumed))

    def _failed_tasks(self, r: DAGRunResponse) -> dict[str, str | None]:
        """The tasks that failed in a failed run, with their errors: what the run's error says."""
        s = self.s
        found = s.call(
            f"GET /dags/{r.dag_id}/dagRuns/{r.dag_run_id}/taskInstances?state=failed",
            s.task_instances.get_task_instances,
            dag_id=r.dag_id,
            dag_run_id=r.dag_run_id,
            state=["failed"],
            limit=self.page,
        )
        failed: dict[str, str | None] = {}
        for ti in found.task_instances:
            failed[ti.task_id] = failed.get(ti.task_id) or self._error(ti)
        return failed

    def _error(self, ti: Any) -> str | None:
        """The exception a failed try ended with, read from its log (once per sync).

        A log that cannot be read (remote logging without access, rotated away) leaves the
        error unknown; it never fails the sync.
        """
        state = ti.state.value if ti.state is not None else None
        if state not in ("failed", "up_for_retry") or ti.try_number < 1:
            return None
        key = (ti.dag_id, ti.dag_run_id, ti.task_id, ti.map_index, ti.try_number)
        if key not in self.errors:
            s = self.s
            try:
                log = s.call(
                    f"GET /dags/{ti.dag_id}/dagRuns/{ti.dag_run_id}/taskInstances/"
                    f"{ti.task_id}/logs/{ti.try_number}",
                    s.task_instances.get_log,
                    dag_id=ti.dag_id,
                    dag_run_id=ti.dag_run_id,
                    task_id=ti.task_id,
                    try_number=ti.try_number,
                    map_index=ti.map_index,
                    full_content=True,
                    accept="application/json",
                    raw=True,
                )
                self.errors[key] = mapping.failure_message(log)
            except AdapterError as exc:
                log_problem.info("%s: no error message for %s: %s", self.adapter.name, key, exc)
                self.errors[key] = None
        return self.errors[key]

    def _upstream_events(self, r: DAGRunResponse) -> list[AssetEventResponse]:
        s = self.s
        found = s.call(
            f"GET /dags/{r.dag_id}/dagRuns/{r.dag_run_id}/upstreamAssetEvents",
            s.dag_runs.get_upstream_asset_events,
            dag_id=r.dag_id,
            dag_run_id=r.dag_run_id,
        )
        events: list[AssetEventResponse] = found.asset_events
        return events

    # -- task instances -------------------------------------------------------------------------

    def _task_instances(self, cursor: dict[str, Any]) -> Iterator[Batch]:
        s = self.s
        for page in self._keyset_pages(
            "GET /dags/~/dagRuns/~/taskInstances",
            s.task_instances.get_task_instances,
            "task_instances",
            dag_id="~",
            dag_run_id="~",
            updated_at_gte=self.after,
            order_by=["id"],
        ):
            yield self._task_instances_batch(page, cursor)

    def _task_instances_batch(
        self, tis: list[TaskInstanceResponse], cursor: dict[str, Any]
    ) -> Batch:
        new_runs = self._missing_runs((ti.dag_id, ti.dag_run_id) for ti in tis)
        records: list[TaskRunRecord] = []
        for ti in tis:
            ref = (ti.dag_id, ti.dag_run_id)
            if ref not in self.runs:
                continue  # its run was deleted while this sync read it
            done = _run_done(self.runs[ref])
            records += [
                mapping.task_run(t, done, self.links, self._error(t)) for t in self._tries(ti)
            ]
        return Batch(cursor=cursor, runs=tuple(new_runs), task_runs=tuple(records))

    def _tries(self, ti: TaskInstanceResponse) -> list[Any]:
        """Every try of a task instance: its history, and itself as the latest."""
        if ti.try_number <= 1:
            return [ti]
        s = self.s
        what = (
            f"GET /dags/{ti.dag_id}/dagRuns/{ti.dag_run_id}/taskInstances/{ti.task_id}"
            + (f"/{ti.map_index}" if ti.map_index >= 0 else "")
            + "/tries"
        )
        if ti.map_index >= 0:
            found = s.call(
                what,
                s.task_instances.get_mapped_task_instance_tries,
                dag_id=ti.dag_id,
                dag_run_id=ti.dag_run_id,
                task_id=ti.task_id,
                map_index=ti.map_index,
            )
        else:
            found = s.call(
                what,
                s.task_instances.get_task_instance_tries,
                dag_id=ti.dag_id,
                dag_run_id=ti.dag_run_id,
                task_id=ti.task_id,
            )
        # The current try comes from the instance itself, the freshest read of it.
        history = [t for t in found.task_instances if t.try_number != ti.try_number]
        return [*history, ti]

    def _missing_runs(self, refs: Iterable[RunRef]) -> list[RunRecord]:
        """Runs named by task instances or events but not read yet: created after this sync
        read the runs. Read them now, so nothing refers to a run the catalog lacks."""
        out = []
        for ref in sorted(set(refs) - set(self.runs)):
            found = self._get_run(ref)
            if found is not None:
                self.runs[ref] = found
                failed = self._failed_tasks(found) if _run_failed(found) else None
                out.append(mapping.run(found, self.links, failed_tasks=failed))
        return out

    # -- asset events ---------------------------------------------------------------------------

    def _asset_events(self, cursor: dict[str, Any]) -> Iterator[Batch]:
        s = self.s
        for page in self._offset_pages_by_page(
            "GET /assets/events",
            s.assets.get_asset_events,
            "asset_events",
            timestamp_gte=self.after,
            # New events land at the end of time order, so offset paging skips none of them.
            order_by=["timestamp"],
        ):
            refs = [
                (e.source_dag_id, e.source_run_id)
                for e in page
                if e.source_dag_id and e.source_run_id
            ]
            new_runs = self._missing_runs(refs)
            events: list[AssetEventRecord] = []
            edges: list[EdgeRecord] = []
            for e in page:
                uri = self._uri(e)
                if uri is None:
                    continue
                known = (e.source_dag_id, e.source_run_id) in self.runs
                events.append(mapping.produced(e, uri, known))
                if (edge := mapping.observed_edge(e, uri)) is not None:
                    edges.append(edge)
            yield Batch(
                cursor=cursor,
                runs=tuple(new_runs),
                asset_events=tuple(events),
                edges=tuple(edges),
            )

    def _uri(self, e: AssetEventResponse) -> str | None:
        if e.uri:
            return e.uri
        if e.asset_id not in self.asset_uris:
            s = self.s
            try:
                found = s.call(f"GET /assets/{e.asset_id}", s.assets.get_asset, asset_id=e.asset_id)
            except AdapterError as exc:
                if isinstance(exc.__context__, ApiException) and exc.__context__.status == 404:
                    return None
                raise
            self.asset_uris[e.asset_id] = found.uri
        return self.asset_uris[e.asset_id]

    # -- paging ---------------------------------------------------------------------------------

    def _offset_pages(self, what: str, method: Any, key: str, **params: Any) -> Iterator[Any]:
        for page in self._offset_pages_by_page(what, method, key, **params):
            yield from page

    def _offset_pages_by_page(
        self, what: str, method: Any, key: str, **params: Any
    ) -> Iterator[list[Any]]:
        """Pages of an offset-paged list. The server caps ``limit`` silently, so the offset
        advances by the rows received, not by the limit asked for."""
        params = {k: v for k, v in params.items() if v is not None}
        offset = 0
        while True:
            page = self.s.call(what, method, limit=self.page, offset=offset, **params)
            items = getattr(page, key)
            if items:
                yield items
            offset += len(items)
            if not items or offset >= (page.total_entries or 0):
                return

    def _keyset_pages(self, what: str, method: Any, key: str, **params: Any) -> Iterator[list[Any]]:
        """Pages of a keyset-paged list: stable while rows change under it."""
        params = {k: v for k, v in params.items() if v is not None}
        token = ""
        while True:
            page = self.s.call(what, method, limit=self.page, cursor=token, **params)
            items = getattr(page, key)
            if items:
                yield items
            if not items or not page.next_cursor:
                return
            token = page.next_cursor


def _run_done(r: DAGRunResponse) -> bool:
    return r.state is not None and r.state.value in ("success", "failed")


def _run_failed(r: DAGRunResponse) -> bool:
    return r.state is not None and r.state.value == "failed"
