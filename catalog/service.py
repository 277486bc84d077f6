"""The catalog's query face: what the API (and scripts) ask, one method per question.

Each method opens its own session, so the API's resolvers stay one call deep and the catalog
can be used from a script or a notebook with nothing but a database URL.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from catalog.alerts.history import AlertHistory
from catalog.alerts.settings import AlertSettings
from catalog.enums import FAILURE_STATUSES, NodeKind
from catalog.errors import InvalidArgument
from catalog.filters import (
    AssetFilter,
    Direction,
    PipelineFilter,
    RunFilter,
    check_aware,
    check_window,
)
from catalog.identity import NamedBy, named_by
from catalog.lineage import (
    DEFAULT_NODES,
    MAX_DEPTH,
    MAX_NODES,
    LineageGraph,
    LineageResult,
    Node,
)
from catalog.listing import Listing
from catalog.matches import Match, likely_matches, table_name
from catalog.pagination import MAX_PAGE, Page, PageRequest
from catalog.store import aliases, audit, reads
from catalog.store import tables as t
from catalog.store.store import Store, utcnow
from catalog.store.versions import DATA_VERSION, SYNC_VERSION
from catalog.trends import Trend, slower_tasks

M = TypeVar("M", t.Source, t.Pipeline, t.Task, t.Run, t.TaskRun, t.Asset, t.AssetEvent)

LAST_WEEK = timedelta(days=7)
TREND_HORIZON = timedelta(days=90)  # attempts older than this are not read for trends
MAX_TREND_RUNS = 1000


@dataclass(frozen=True, slots=True)
class Impact:
    run: t.Run
    outputs: list[tuple[int, bool]]  # (asset id, produced by this run?)
    downstream: LineageResult


class Catalog:
    def __init__(
        self,
        store: Store,
        *,
        clock: Callable[[], datetime] = utcnow,
        alerts: AlertSettings | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.lineage_graph = LineageGraph(store)
        self.alerts = AlertHistory(store, alerts or AlertSettings())  # rules and incidents
        self.listing = Listing(store)  # pages with the rows their answers show

    def data_version(self) -> int:
        """Changes whenever a sync or an event commits: a key for caching whole responses."""
        return self.store.version(DATA_VERSION)

    def reading(self) -> AbstractContextManager[None]:
        """A block whose reads of the hottest questions (versions, :attr:`listing`'s rows)
        share one connection and one snapshot."""
        return self.store.statements.reading()

    def cache_versions(self) -> tuple[int, int]:
        """(data version, sync version), read together: the second moves with every change to
        a source's sync state, including a sync that wrote nothing (or failed)."""
        data, sync = self.store.versions(DATA_VERSION, SYNC_VERSION)
        return data, sync

    # -- lists --------------------------------------------------------------------------------

    def sources(self, page: PageRequest) -> Page[t.Source]:
        with self.store.session() as s:
            return reads.read_sources(s, page)

    def count_sources(self) -> int:
        with self.store.session() as s:
            return reads.count_sources(s)

    def pipelines(self, f: PipelineFilter, page: PageRequest) -> Page[t.Pipeline]:
        with self.store.session() as s:
            return reads.read_pipelines(s, f, page)

    def count_pipelines(self, f: PipelineFilter) -> int:
        with self.store.session() as s:
            return reads.count_pipelines(s, f)

    def runs(self, f: RunFilter, page: PageRequest) -> Page[t.Run]:
        with self.store.session() as s:
            return reads.read_runs(s, f, page)

    def count_runs(self, f: RunFilter) -> int:
        with self.store.session() as s:
            return reads.count_runs(s, f)

    def failed_runs_filter(self, since: datetime | None, until: datetime | None) -> RunFilter:
        """Runs that failed in a window; by default the last seven days up to now."""
        check_window(since, until)
        until = until or self.clock()
        since = since or until - LAST_WEEK
        check_window(since, until)
        return RunFilter(statuses=tuple(sorted(FAILURE_STATUSES)), since=since, until=until)

    def assets(self, f: AssetFilter, page: PageRequest) -> Page[t.Asset]:
        with self.store.session() as s:
            return reads.read_assets(s, f, page)

    def count_assets(self, f: AssetFilter) -> int:
        with self.store.session() as s:
            return reads.count_assets(s, f)

    def stale_assets(self, page: PageRequest, at: datetime | None = None) -> Page[t.Asset]:
        check_aware("at", at)
        with self.store.session() as s:
            return reads.read_stale_assets(s, at or self.clock(), page)

    def count_stale_assets(self, at: datetime | None = None) -> int:
        with self.store.session() as s:
            return reads.count_stale_assets(s, at or self.clock())

    def produced_between(
        self, start: datetime, end: datetime, page: PageRequest
    ) -> Page[t.AssetEvent]:
        check_window(start, end, names=("start", "end"))
        with self.store.session() as s:
            return reads.read_produced_between(s, start, end, page)

    def count_produced_between(self, start: datetime, end: datetime) -> int:
        with self.store.session() as s:
            return reads.count_produced_between(s, start, end)

    def slower_tasks(
        self,
        recent: int = 5,
        baseline: int = 20,
        min_ratio: float = 1.2,
        since: datetime | None = None,
        first: int = 50,
    ) -> list[Trend]:
        """Tasks whose last ``recent`` successful attempts take ``min_ratio`` times as long
        (median) as the ``baseline`` before them, slowest-growing first; attempts started
        before ``since`` (default: 90 days ago) are not read."""
        for name, value in (("recent", recent), ("baseline", baseline)):
            if not 1 <= value <= MAX_TREND_RUNS:
                raise InvalidArgument(name, f"must be between 1 and {MAX_TREND_RUNS}, got {value}")
        if not min_ratio > 0:
            raise InvalidArgument("minRatio", f"must be above 0, got {min_ratio}")
        if not 0 <= first <= MAX_PAGE:
            raise InvalidArgument("first", f"must be between 0 and {MAX_PAGE}, got {first}")
        check_aware("since", since)
        since = since or self.clock() - TREND_HORIZON
        with self.store.session() as s:
            durations = reads.read_latest_durations(s, since, recent + baseline)
        return slower_tasks(durations, recent, baseline, min_ratio)[:first]

    # -- single things ------------------------------------------------------------------------

    def run(self, run_id: int) -> t.Run | None:
        return self.by_ids(t.Run, [run_id])[0]

    def run_by_external_id(self, source: str, external_id: str) -> t.Run | None:
        with self.store.session() as s:
            return reads.read_run_by_external_id(s, source, external_id)

    def asset(self, uri: str) -> t.Asset | None:
        """The asset ``uri`` names: its identity, else a name a source gives it (an alias such
        as an OpenLineage symlink)."""
        with self.store.session() as s:
            identity, _ = self.store.identity.resolve(uri)
            found = reads.read_asset_by_uri(s, identity)
            return found or aliases.read_asset_by_alias(s, [uri, identity])

    # -- asset links --------------------------------------------------------------------------

    def link_assets(
        self, uri: str, other: str, *, by: str, note: str | None = None
    ) -> tuple[t.AssetLink, int]:
        """Say two assets are one dataset: lineage then crosses between them. ``by`` is the
        authenticated principal, never a name the caller chose. Returns the link and the id of
        ``uri``'s asset (the side the caller stands on)."""
        a, b = self._asset_for_link("uri", uri), self._asset_for_link("other", other)
        if a == b:
            raise InvalidArgument("other", f"{other!r} is the same asset as {uri!r}")
        return self.store.link_assets(a, b, by=by, note=note, now=self.clock()), a

    def unlink_assets(self, uri: str, other: str, *, by: str) -> bool:
        a, b = self._asset_for_link("uri", uri), self._asset_for_link("other", other)
        return self.store.unlink_assets(a, b, by=by, now=self.clock())

    # -- the audit log ------------------------------------------------------------------------

    def audit_log(
        self, page: PageRequest, *, principal: str | None = None, action: str | None = None
    ) -> Page[t.AuditEvent]:
        """Changes principals made (tokens, links), newest first."""
        with self.store.session() as s:
            return audit.read_audit(s, page, principal=principal, action=action)

    def count_audit_log(self, *, principal: str | None = None, action: str | None = None) -> int:
        with self.store.session() as s:
            return audit.count_audit(s, principal=principal, action=action)

    def links_of_assets(self, asset_ids: Sequence[int]) -> list[list[t.AssetLink]]:
        with self.store.session() as s:
            return reads.read_links_of_assets(s, asset_ids)

    def likely_matches(self, first: int, asset: str | None = None) -> list[Match]:
        """Assets that share a table name under two identities and are not linked yet; with
        ``asset`` (a URI), only the pairs it is in (none if there is no such asset), reading only
        the assets named like it."""
        if not 0 <= first <= MAX_PAGE:
            raise InvalidArgument("first", f"must be between 0 and {MAX_PAGE}, got {first}")
        if asset is None:
            with self.store.session() as s:
                linked = {(k.asset_id, k.other_id) for k in reads.read_links(s)}
                return likely_matches(reads.read_asset_uris(s), linked)[:first]
        row = self.asset(asset)
        name = table_name(asset)
        if row is None or row.id is None or not name:
            return []
        asset_id = row.id
        with self.store.session() as s:
            (links,) = reads.read_links_of_assets(s, [asset_id])
            # A superset of the assets sharing the name (it is part of their URI, any case):
            # likely_matches keeps those whose table name it is.
            named = reads.read_asset_uris_containing(s, name)
        linked = {(k.asset_id, k.other_id) for k in links}
        found = likely_matches(named, linked)
        return [m for m in found if asset_id in (m.asset_id, m.other_id)][:first]

    def _asset_for_link(self, argument: str, uri: str) -> int:
        found = self.asset(uri)
        if found is None or found.id is None:
            raise InvalidArgument(argument, f"no asset {uri!r} in the catalog")
        return found.id

    # -- batched lookups, for DataLoaders ---------------------------------------------------------

    def by_ids(self, model: type[M], ids: Sequence[int]) -> list[M | None]:
        with self.store.session() as s:
            return reads.read_by_ids(s, model, ids)

    def task_runs_of_runs(self, run_ids: Sequence[int]) -> list[list[t.TaskRun]]:
        with self.store.session() as s:
            return reads.read_children(
                s, t.TaskRun, "run_id", run_ids, order=("started_at", "task_id", "attempt", "id")
            )

    def events_of_assets(self, asset_ids: Sequence[int]) -> list[list[t.AssetEvent]]:
        with self.store.session() as s:
            return reads.read_children(s, t.AssetEvent, "asset_id", asset_ids, order=("at", "id"))

    def events_of_runs(self, run_ids: Sequence[int]) -> list[list[t.AssetEvent]]:
        with self.store.session() as s:
            return reads.read_children(s, t.AssetEvent, "run_id", run_ids, order=("at", "id"))

    def checks_of_assets(self, asset_ids: Sequence[int]) -> list[list[t.CheckResult]]:
        with self.store.session() as s:
            return reads.read_children(s, t.CheckResult, "asset_id", asset_ids, order=("at", "id"))

    def aliases_of_assets(self, asset_ids: Sequence[int]) -> list[list[t.AssetAlias]]:
        with self.store.session() as s:
            return reads.read_children(s, t.AssetAlias, "asset_id", asset_ids)

    def sources_of_assets(self, asset_ids: Sequence[int]) -> list[list[int]]:
        """Ids of the sources that name each asset or report lineage through it."""
        with self.store.session() as s:
            return reads.read_sources_of_assets(s, asset_ids)

    def names_of_assets(self, asset_ids: Sequence[int]) -> list[list[NamedBy]]:
        """What each source that knows an asset calls it, and why (see identity.named_by)."""
        with self.store.session() as s:
            assets = reads.read_by_ids(s, t.Asset, asset_ids)
            sources = reads.read_sources_of_assets(s, asset_ids)
            aliases = reads.read_children(s, t.AssetAlias, "asset_id", asset_ids)
        return [
            named_by(a.uri, ids, [(x.source_id, x.alias, x.reason) for x in found])
            if a is not None
            else []
            for a, ids, found in zip(assets, sources, aliases, strict=True)
        ]

    def column_lineage_of_assets(self, asset_ids: Sequence[int]) -> list[list[t.ColumnLineage]]:
        """Which input columns each asset's columns derive from, by output column."""
        with self.store.session() as s:
            return reads.read_children(
                s,
                t.ColumnLineage,
                "output_asset_id",
                asset_ids,
                order=("output_column", "input_asset_id", "input_column", "source_id"),
            )

    def tasks_of_pipelines(self, pipeline_ids: Sequence[int]) -> list[list[t.Task]]:
        with self.store.session() as s:
            return reads.read_children(
                s, t.Task, "pipeline_id", pipeline_ids, order=("external_id",)
            )

    def owners_of(self, kind: NodeKind | str, ids: Sequence[int]) -> list[list[str]]:
        with self.store.session() as s:
            return reads.read_labels(s, t.Owner, str(kind), ids)

    def tags_of(self, kind: str, ids: Sequence[int]) -> list[list[str]]:
        with self.store.session() as s:
            return reads.read_labels(s, t.Tag, kind, ids)

    def sync_states(self, source_ids: Sequence[int]) -> list[t.SyncState | None]:
        with self.store.session() as s:
            return reads.read_sync_states(s, source_ids)

    # -- batched pages of children, newest first (for nested connections) ------------------------

    def runs_of_pipelines(
        self, pipeline_ids: Sequence[int], page: PageRequest
    ) -> list[Page[t.Run]]:
        with self.store.session() as s:
            return reads.read_latest_children(
                s, t.Run, "pipeline_id", pipeline_ids, "happened_at", page
            )

    def count_runs_of_pipelines(self, pipeline_ids: Sequence[int]) -> list[int]:
        with self.store.session() as s:
            return reads.count_children(s, t.Run, "pipeline_id", pipeline_ids)

    def event_pages_of_assets(
        self, asset_ids: Sequence[int], page: PageRequest
    ) -> list[Page[t.AssetEvent]]:
        with self.store.session() as s:
            return reads.read_latest_children(s, t.AssetEvent, "asset_id", asset_ids, "at", page)

    def count_events_of_assets(self, asset_ids: Sequence[int]) -> list[int]:
        with self.store.session() as s:
            return reads.count_children(s, t.AssetEvent, "asset_id", asset_ids)

    def check_pages_of_assets(
        self, asset_ids: Sequence[int], page: PageRequest
    ) -> list[Page[t.CheckResult]]:
        with self.store.session() as s:
            return reads.read_latest_children(s, t.CheckResult, "asset_id", asset_ids, "at", page)

    def count_checks_of_assets(self, asset_ids: Sequence[int]) -> list[int]:
        with self.store.session() as s:
            return reads.count_children(s, t.CheckResult, "asset_id", asset_ids)

    # -- lineage ------------------------------------------------------------------------------

    def lineage(
        self,
        node: Node,
        direction: Direction,
        depth: int,
        as_of: datetime | None = None,
        max_nodes: int = DEFAULT_NODES,
    ) -> LineageResult:
        """The lineage around ``node``, at most ``max_nodes`` nodes (the nearest); with
        ``as_of``, as it stood then (edges first seen after it left out)."""
        _check_depth(depth)
        _check_max_nodes(max_nodes)
        check_aware("asOf", as_of)
        return self.lineage_graph.walk([node], direction, depth, as_of, max_nodes)

    def impact(self, run_id: int, depth: int = 10, max_nodes: int = DEFAULT_NODES) -> Impact | None:
        """Everything downstream of what a run produced or was meant to produce.

        The run's outputs are the assets it produced plus every asset its pipeline or the
        pipeline's tasks are declared to write: a failed run's missing outputs matter most.
        """
        _check_depth(depth)
        _check_max_nodes(max_nodes)
        run = self.run(run_id)
        if run is None:
            return None
        with self.store.session() as s:
            produced = set(reads.read_assets_produced_by_run(s, run_id))
            owners: list[Node] = [(NodeKind.PIPELINE.value, run.pipeline_id)]
            owners += [
                (NodeKind.TASK.value, i)
                for i in reads.read_task_ids_of_pipeline(s, run.pipeline_id)
            ]
        declared = {i for k, i in self.lineage_graph.successors(owners) if k == NodeKind.ASSET}
        outputs = sorted((i, i in produced) for i in produced | declared)
        starts = [(NodeKind.ASSET.value, i) for i, _ in outputs]
        downstream = self.lineage_graph.walk(
            starts, Direction.DOWNSTREAM, depth, max_nodes=max_nodes
        )
        return Impact(run, outputs, downstream)


class HasFreshness(Protocol):
    @property
    def freshness_max_age_s(self) -> float | None: ...
    @property
    def stale_after(self) -> datetime | None: ...


def is_stale(asset: HasFreshness, at: datetime) -> bool:
    """The freshness rule :meth:`Catalog.stale_assets` applies, for one asset already loaded."""
    if asset.freshness_max_age_s is None:
        return False
    return asset.stale_after is None or asset.stale_after < at


def _check_max_nodes(max_nodes: int) -> None:
    if not 1 <= max_nodes <= MAX_NODES:
        raise InvalidArgument("maxNodes", f"must be between 1 and {MAX_NODES}, got {max_nodes}")


def _check_depth(depth: int) -> None:
    if not 1 <= depth <= MAX_DEPTH:
        raise InvalidArgument("depth", f"must be between 1 and {MAX_DEPTH}, got {depth}")
