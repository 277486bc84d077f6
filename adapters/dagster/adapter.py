"""The Dagster adapter: pulls code locations, jobs, schedules, sensors, runs, steps (every
attempt), asset definitions, materialisations and asset check results from Dagster's GraphQL
API over plain HTTP (no dagster package needed).

A sync reads, by the server's clock:

1. the workspace (jobs, schedules, sensors; a code location that failed to load becomes a
   notice on the source) and every asset definition, with its dependencies, owners, kinds,
   freshness policy and checks — small, and changed in place, so read every time;
2. runs updated since the last sync (minus ``overlap``), newest first, page by page, with their
   step stats; for each job snapshot met, the job's ops; for runs that failed or retried, their
   failure events, which carry the user's exception;
3. materialisations of the assets whose latest materialisation is newer than the watermark,
   many assets to a request;
4. executions of every asset check, newest first, down to the watermark.

A sync with nothing new costs four requests, plus one per 25 asset checks and one per further
1,000 assets: Dagster has no "changed since" filter on definitions, asset lists or check
executions, so those are read whole (checks newest first, a page each).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar

from adapters.dagster import mapping, queries, states
from adapters.dagster.config import DagsterConfig
from adapters.dagster.keys import AssetKeys, alias
from adapters.dagster.session import DagsterSession
from catalog.adapter import AdapterConfig, SessionAdapter, SyncHint
from catalog.errors import AdapterError
from catalog.records import (
    AssetEventRecord,
    Batch,
    CheckResultRecord,
    ColumnLineageRecord,
    Cursor,
    EdgeRecord,
    RunRecord,
    TaskRecord,
    TaskRunRecord,
)
from catalog.secrets import redact
from catalog.watermark import read_since

ASSETS_PAGE = 1000
ASSETS_PER_REQUEST = 25
MATERIALIZATIONS_PAGE = 200
CHECKS_PAGE = 50
LOG_PAGE = 1000
RUN_IDS_PER_QUERY = 100


class DagsterAdapter(SessionAdapter[DagsterConfig, DagsterSession]):
    kind: ClassVar[str] = "dagster"
    config_class: ClassVar[type[AdapterConfig]] = DagsterConfig

    def __init__(self, name: str, config: DagsterConfig) -> None:
        super().__init__(name, config)
        self.keys = AssetKeys(config.asset_rules, config.url)
        self.links = mapping.Links(config.links)

    @property
    def base_url(self) -> str:
        return self.config.url

    def open_session(self) -> DagsterSession:
        return DagsterSession(self.name, self.config)

    def fetch(self, cursor: Cursor | None) -> Iterator[Batch]:
        return _Sync(self, read_since(self.name, "a Dagster", cursor)).run()

    def fetch_hinted(self, hints: Sequence[SyncHint], cursor: Cursor | None) -> Iterator[Batch]:
        """The runs a push named (``run_id``) with their steps."""
        return _Sync(self, read_since(self.name, "a Dagster", cursor)).hinted(hints)


class _Sync:
    def __init__(self, adapter: DagsterAdapter, since: datetime | None) -> None:
        self.s = adapter.session
        self.keys = adapter.keys
        self.links = adapter.links
        self.page = adapter.config.page_size
        self.owner_tags = adapter.config.owner_tags
        self.since = since
        self.after = since - adapter.config.overlap if since is not None else None
        self.now = datetime.now(UTC)
        self.run_jobs: dict[str, str] = {}  # run id → job name, for runs read in this sync
        self.snapshots: dict[str, list[TaskRecord]] = {}  # job snapshot id → its ops

    def run(self) -> Iterator[Batch]:
        previous = {"since": self.since.isoformat()} if self.since else {}
        workspace = self._workspace()
        # The server's clock, read from the first answer: the next sync starts from here.
        self.now = self.s.server_time or datetime.now(UTC)
        nodes = self._asset_nodes()
        pipelines, notices = mapping.pipelines(workspace, self.links, self.owner_tags)
        yield Batch(
            cursor=previous,
            pipelines=tuple(pipelines),
            assets=tuple(mapping.asset(n, self.keys, self.links) for n in nodes),
            edges=tuple(e for n in nodes for e in mapping.dependency_edges(n, self.keys)),
            notices=tuple(notices),
        )
        filters: dict[str, Any] = {}
        if self.after is not None:
            filters["updatedAfter"] = self.after.timestamp()
        for runs in self._run_pages(filters):
            yield self._runs_batch(runs, previous)
        yield from self._materializations(previous)
        yield from self._checks(nodes, previous)
        yield Batch(cursor={"since": self.now.isoformat()})

    def hinted(self, hints: Sequence[SyncHint]) -> Iterator[Batch]:
        ids = sorted({h.run_id for h in hints if h.run_id})
        if ids:
            for runs in self._run_pages({"runIds": ids}):
                yield self._runs_batch(runs, {})

    # -- definitions ----------------------------------------------------------------------------

    def _workspace(self) -> dict[str, Any]:
        data = self.s.query("workspaceOrError", queries.WORKSPACE)
        return self.s.result("workspaceOrError", data.get("workspaceOrError"), "Workspace")

    def _asset_nodes(self) -> list[dict[str, Any]]:
        nodes = self.s.query("assetNodes", queries.ASSET_NODES).get("assetNodes")
        if not isinstance(nodes, list):
            raise AdapterError(f"{self.s._where()} sent assetNodes that is no list")
        return nodes

    # -- runs -----------------------------------------------------------------------------------

    def _run_pages(self, filters: dict[str, Any]) -> Iterator[list[dict[str, Any]]]:
        cursor: str | None = None
        while True:
            variables = {"filter": filters or None, "cursor": cursor, "limit": self.page}
            data = self.s.query("runsOrError", queries.RUNS, variables)
            runs = self.s.result("runsOrError", data.get("runsOrError"), "Runs")["results"]
            if runs:
                yield runs
            if len(runs) < self.page:
                return
            cursor = runs[-1]["runId"]

    def _runs_batch(self, runs: list[dict[str, Any]], cursor: dict[str, Any]) -> Batch:
        records: list[RunRecord] = []
        steps: list[TaskRunRecord] = []
        tasks: dict[tuple[str, str], TaskRecord] = {}
        for r in runs:
            self.run_jobs[r["runId"]] = r["jobName"]
            ops = self._ops(r)
            for t in ops:
                tasks[(t.pipeline_id, t.external_id)] = t
            planned = r.get("stepKeysToExecute") or [t.external_id for t in ops]
            why = self._failure(r)
            try:
                records.append(mapping.run(r, self.links, why, self.owner_tags))
                steps += mapping.step_runs(r, planned, self.links, why)
            except (KeyError, TypeError, ValueError, OverflowError) as exc:
                raise AdapterError(
                    f"{self.s._where()} sent run {r.get('runId')!r} in a shape "
                    f"that cannot be read: {redact(repr(exc))}"
                ) from None
        return Batch(
            cursor=cursor,
            runs=tuple(records),
            tasks=tuple(tasks.values()),
            task_runs=tuple(steps),
        )

    def _ops(self, r: dict[str, Any]) -> list[TaskRecord]:
        snapshot_id = r.get("pipelineSnapshotId")
        if not snapshot_id:
            return []
        if snapshot_id not in self.snapshots:
            what = f"pipelineSnapshotOrError({snapshot_id})"
            data = self.s.query(what, queries.JOB_SNAPSHOT, {"snapshotId": snapshot_id})
            found = data.get("pipelineSnapshotOrError") or {}
            if found.get("__typename") == "PipelineSnapshotNotFoundError":
                self.snapshots[snapshot_id] = []  # pruned: the run's own steps still count
            else:
                snapshot = self.s.result(what, found, "PipelineSnapshot")
                self.snapshots[snapshot_id] = mapping.tasks(r["jobName"], snapshot)
        return self.snapshots[snapshot_id]

    def _failure(self, r: dict[str, Any]) -> mapping.Failure | None:
        """The run's failure events, read for runs that failed or retried a step."""
        failed = states.run_status(r.get("status")).is_failure()
        retried = any(len(s.get("attempts") or ()) > 1 for s in r.get("stepStats") or ())
        stepped = any(s.get("status") == "FAILURE" for s in r.get("stepStats") or ())
        if not (failed or retried or stepped):
            return None
        events: list[dict[str, Any]] = []
        after: str | None = None
        what = f"logsForRun({r['runId']})"
        while True:
            variables = {"runId": r["runId"], "afterCursor": after, "limit": LOG_PAGE}
            data = self.s.query(what, queries.RUN_LOGS, variables)
            page = self.s.result(what, data.get("logsForRun"), "EventConnection")
            events += [e for e in page.get("events") or () if e]
            if not page.get("hasMore"):
                return mapping.failure(events)
            after = page.get("cursor")

    def _missing_runs(self, run_ids: set[str], cursor: dict[str, Any]) -> Iterator[Batch]:
        """Runs that events name but this sync has not read (older than its window)."""
        missing = sorted(run_ids - set(self.run_jobs))
        for i in range(0, len(missing), RUN_IDS_PER_QUERY):
            ids = missing[i : i + RUN_IDS_PER_QUERY]
            for runs in self._run_pages({"runIds": ids}):
                yield self._runs_batch(runs, cursor)

    # -- materialisations -----------------------------------------------------------------------

    def _materializations(self, cursor: dict[str, Any]) -> Iterator[Batch]:
        after_ms = self.after.timestamp() * 1000 if self.after is not None else None
        changed = [
            a["key"]["path"]
            for a in self._assets()
            if a.get("latestMaterializationTimestamp") is not None
            and (after_ms is None or float(a["latestMaterializationTimestamp"]) > after_ms)
        ]
        for i in range(0, len(changed), ASSETS_PER_REQUEST):
            paths = changed[i : i + ASSETS_PER_REQUEST]
            found = self._materializations_of(paths, after_ms)
            events: list[AssetEventRecord] = []
            edges: list[EdgeRecord] = []
            lineage: list[ColumnLineageRecord] = []
            runs = {str(m["runId"]) for _, m in found if m.get("runId")}
            yield from self._missing_runs(runs, cursor)
            for path, m in found:
                try:
                    event, e, cl = mapping.materialization(
                        m, path, self.run_jobs.get(m.get("runId") or ""), self.keys
                    )
                except (KeyError, TypeError, ValueError, OverflowError) as exc:
                    raise AdapterError(
                        f"{self.s._where()} sent a materialisation of "
                        f"{alias(path)} that cannot be read: {redact(repr(exc))}"
                    ) from None
                events.append(event)
                edges += e
                lineage += cl
            yield Batch(
                cursor=cursor,
                asset_events=tuple(events),
                edges=tuple(edges),
                column_lineage=tuple(lineage),
            )

    def _assets(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            variables = {"cursor": cursor, "limit": ASSETS_PAGE}
            data = self.s.query("assetsOrError", queries.ASSETS, variables)
            page = self.s.result("assetsOrError", data.get("assetsOrError"), "AssetConnection")
            nodes = page.get("nodes") or []
            out += nodes
            if len(nodes) < ASSETS_PAGE or not page.get("cursor"):
                return out
            cursor = page["cursor"]

    def _materializations_of(
        self, paths: Sequence[Sequence[str]], after_ms: float | None
    ) -> list[tuple[Sequence[str], dict[str, Any]]]:
        """Every materialisation of ``paths`` after ``after_ms``, newest first per asset."""
        out: list[tuple[Sequence[str], dict[str, Any]]] = []
        document = queries.batched(
            "TempoxMaterializations",
            queries.MATERIALIZATIONS_OF,
            len(paths),
            {"after": "String", "limit": "Int"},
        )
        after = None if after_ms is None else f"{after_ms:.0f}"
        variables: dict[str, Any] = {"after": after, "limit": MATERIALIZATIONS_PAGE}
        variables |= {f"key_{i}": {"path": list(p)} for i, p in enumerate(paths)}
        data = self.s.query("assetOrError (materialisations)", document, variables)
        for i, path in enumerate(paths):
            what = f"assetOrError({alias(path)})"
            found = data.get(f"a{i}") or {}
            if found.get("__typename") == "AssetNotFoundError":
                continue  # wiped between the two requests
            mats = self.s.result(what, found, "Asset").get("assetMaterializations") or []
            out += [(path, m) for m in mats]
            if len(mats) == MATERIALIZATIONS_PAGE:
                out += [(path, m) for m in self._older(path, after, mats[-1]["timestamp"])]
        return out

    def _older(self, path: Sequence[str], after: str | None, before: str) -> list[dict[str, Any]]:
        """Further pages of one busy asset, going back in time until ``after``."""
        document = queries.MATERIALIZATIONS_PAGE_OF
        out: list[dict[str, Any]] = []
        what = f"assetOrError({alias(path)}) (older materialisations)"
        while True:
            variables = {
                "key": {"path": list(path)},
                "after": after,
                "before": before,
                "limit": MATERIALIZATIONS_PAGE,
            }
            data = self.s.query(what, document, variables)
            found = self.s.result(what, data.get("assetOrError"), "Asset")
            mats = found.get("assetMaterializations") or []
            out += mats
            if len(mats) < MATERIALIZATIONS_PAGE:
                return out
            before = mats[-1]["timestamp"]

    # -- asset checks ---------------------------------------------------------------------------

    def _checks(self, nodes: list[dict[str, Any]], cursor: dict[str, Any]) -> Iterator[Batch]:
        checks = [
            (n["assetKey"]["path"], c["name"])
            for n in nodes
            for c in (n.get("assetChecksOrError") or {}).get("checks") or ()
        ]
        for i in range(0, len(checks), ASSETS_PER_REQUEST):
            results: list[CheckResultRecord] = []
            for path, name, execution in self._executions(checks[i : i + ASSETS_PER_REQUEST]):
                try:
                    record = mapping.check_result(execution, path, name, self.keys)
                except (KeyError, TypeError, ValueError, OverflowError) as exc:
                    raise AdapterError(
                        f"{self.s._where()} sent an execution of check "
                        f"{alias(path)}:{name} that cannot be read: {redact(repr(exc))}"
                    ) from None
                if record is not None and (self.after is None or record.at > self.after):
                    results.append(record)
            yield from self._missing_runs({r.run_id for r in results if r.run_id}, cursor)
            if results:
                yield Batch(cursor=cursor, check_results=tuple(results))

    def _executions(
        self, checks: Sequence[tuple[Sequence[str], str]]
    ) -> Iterator[tuple[Sequence[str], str, dict[str, Any]]]:
        """Executions newer than the watermark, newest first; pages only checks that need it."""
        pending = {i: (path, name, None) for i, (path, name) in enumerate(checks)}
        while pending:
            items = list(pending.values())
            document = queries.batched(
                "TempoxCheckExecutions", queries.CHECK_EXECUTIONS_OF, len(items), {"limit": "Int!"}
            )
            variables: dict[str, Any] = {"limit": CHECKS_PAGE}
            for i, (path, name, after) in enumerate(items):
                variables |= {
                    f"key_{i}": {"path": list(path)},
                    f"check_{i}": name,
                    f"cursor_{i}": after,
                }
            data = self.s.query("assetCheckExecutions", document, variables)
            pending = {}
            for i, (path, name, _) in enumerate(items):
                executions = data.get(f"a{i}")
                if not isinstance(executions, list):
                    raise AdapterError(
                        f"{self.s._where()} sent assetCheckExecutions of "
                        f"{alias(path)}:{name} that is no list"
                    )
                for e in executions:
                    yield path, name, e
                oldest = mapping.seconds(executions[-1].get("timestamp")) if executions else None
                older_wanted = self.after is None or (oldest is not None and oldest > self.after)
                if len(executions) == CHECKS_PAGE and older_wanted:
                    pending[i] = (path, name, executions[-1]["id"])
