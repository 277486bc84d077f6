"""The per-request context: the catalog, one clock reading, and the request's DataLoaders.

Every relation a type can follow has a loader here, so a list of fifty runs asking for their
pipelines' owners costs one query per relation, not one per row. Loaders live for one request
only: nothing cached in them outlives the response, so no request sees another's stale rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from functools import cached_property, partial
from typing import TypeVar, TypeVarTuple

import strawberry
from anyio import to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.dataloader import DataLoader

from api.auth.middleware import principal_of
from catalog.auth.principal import ANONYMOUS, Principal
from catalog.auth.tokens import Tokens
from catalog.pagination import Page, PageRequest
from catalog.service import Catalog
from catalog.store import tables as t
from catalog.store.related import Related

R = TypeVar("R")
Ts = TypeVarTuple("Ts")
LabelKey = tuple[str, int]  # (entity kind, catalog id)

# The app reads "now" rounded down to this: a question relative to now is answered the same
# within these seconds, so its answer is cached that long (no person can notice 5 s on a
# seven-day window or a freshness deadline; a commit still moves every answer at once).
CLOCK_STEP = timedelta(seconds=5)


async def run_sync(fn: Callable[[*Ts], R], *args: *Ts) -> R:
    # The catalog is synchronous; a worker thread keeps one slow query (PostgreSQL across a
    # network) from stalling every other request on the event loop.
    return await to_thread.run_sync(fn, *args)


def _batch(fetch: Callable[[list[int]], Sequence[R]]) -> DataLoader[int, R]:
    async def load(keys: list[int]) -> Sequence[R]:
        return await run_sync(fetch, keys)

    return DataLoader(load_fn=load)


def _labels(
    fetch: Callable[[str, Sequence[int]], list[list[str]]],
) -> DataLoader[LabelKey, list[str]]:
    def grouped(keys: list[LabelKey]) -> list[list[str]]:
        by_kind: dict[str, list[int]] = defaultdict(list)
        for kind, ident in keys:
            by_kind[kind].append(ident)
        found: dict[LabelKey, list[str]] = {}
        for kind, ids in by_kind.items():
            found.update(
                ((kind, i), labels) for i, labels in zip(ids, fetch(kind, ids), strict=True)
            )
        return [found[k] for k in keys]

    async def load(keys: list[LabelKey]) -> list[list[str]]:
        return await run_sync(grouped, keys)

    return DataLoader(load_fn=load)


class Loaders:
    """One DataLoader per relation, created fresh for every request."""

    def __init__(self, catalog: Catalog) -> None:
        c = self._catalog = catalog
        self.source = _batch(partial(c.by_ids, t.Source))
        self.pipeline = _batch(partial(c.by_ids, t.Pipeline))
        self.task = _batch(partial(c.by_ids, t.Task))
        self.run = _batch(partial(c.by_ids, t.Run))
        self.task_run = _batch(partial(c.by_ids, t.TaskRun))
        self.asset = _batch(partial(c.by_ids, t.Asset))
        self.sync_state = _batch(c.sync_states)
        self.owners = _labels(c.owners_of)
        self.tags = _labels(c.tags_of)
        self.tasks_of_pipeline = _batch(c.tasks_of_pipelines)
        self.task_runs_of_run = _batch(c.task_runs_of_runs)
        self.events_of_run = _batch(c.events_of_runs)
        self.aliases_of_asset = _batch(c.aliases_of_assets)
        self.sources_of_asset = _batch(c.sources_of_assets)
        self.names_of_asset = _batch(c.names_of_assets)
        self.links_of_asset = _batch(c.links_of_assets)
        self.column_lineage_of_asset = _batch(c.column_lineage_of_assets)
        self.run_count_of_pipeline = _batch(c.count_runs_of_pipelines)
        self.event_count_of_asset = _batch(c.count_events_of_assets)
        self.check_count_of_asset = _batch(c.count_checks_of_assets)
        # Paged children: one loader per (first, after), since every parent in a list is asked
        # for the same page of its children.
        self._runs: dict[PageRequest, DataLoader[int, Page[t.Run]]] = {}
        self._events: dict[PageRequest, DataLoader[int, Page[t.AssetEvent]]] = {}
        self._checks: dict[PageRequest, DataLoader[int, Page[t.CheckResult]]] = {}

    def runs_of_pipeline(self, page: PageRequest) -> DataLoader[int, Page[t.Run]]:
        return _paged(self._runs, page, self._catalog.runs_of_pipelines)

    def events_of_asset(self, page: PageRequest) -> DataLoader[int, Page[t.AssetEvent]]:
        return _paged(self._events, page, self._catalog.event_pages_of_assets)

    def checks_of_asset(self, page: PageRequest) -> DataLoader[int, Page[t.CheckResult]]:
        return _paged(self._checks, page, self._catalog.check_pages_of_assets)


def _paged(
    cache: dict[PageRequest, DataLoader[int, Page[R]]],
    page: PageRequest,
    fetch: Callable[[Sequence[int], PageRequest], list[Page[R]]],
) -> DataLoader[int, Page[R]]:
    loader = cache.get(page)
    if loader is None:
        loader = cache[page] = _batch(lambda ids: fetch(ids, page))
    return loader


class Known:
    """Rows a list resolver read with its page (what its selection shows): its items' fields
    take them from here, synchronously, instead of from a DataLoader."""

    def __init__(self) -> None:
        self.pipelines: dict[int, t.Pipeline] = {}
        self.sources: dict[int, t.Source] = {}
        self.owners: dict[LabelKey, list[str]] = {}
        self.tags: dict[LabelKey, list[str]] = {}
        self.aliases: dict[int, list[t.AssetAlias]] = {}

    def add(self, related: Related, labels_of: str) -> None:
        """Keep ``related``; its owners and tags are of ``labels_of`` entities (their ids)."""
        self.pipelines.update(related.pipelines)
        self.sources.update(related.sources)
        self.owners.update(((labels_of, i), v) for i, v in related.owners.items())
        self.owners.update((("run", i), v) for i, v in related.run_owners.items())
        self.tags.update(((labels_of, i), v) for i, v in related.tags.items())
        self.aliases.update(related.aliases)


class Context:
    """What every resolver of one request shares."""

    def __init__(
        self,
        catalog: Catalog,
        request: Request | WebSocket | None = None,
        response: Response | WebSocket | None = None,
        *,
        tokens: Tokens | None = None,
        auth_required: bool = False,
        max_query_cost: int | None = None,
        clock_step: timedelta = timedelta(0),
    ) -> None:
        self.catalog = catalog
        self.clock_step = clock_step
        self.known = Known()
        self.request = request
        self.response = response
        self.tokens = tokens or Tokens(catalog.store, clock=catalog.clock)
        self.auth_required = auth_required
        self.max_query_cost = max_query_cost  # read by api.limits.cost.CostLimit; None: any
        # Resolved by api.auth's middleware; a request that did not pass it (a test calling
        # the schema directly) is the anonymous client of an open server.
        self.principal: Principal = principal_of(request) if request is not None else ANONYMOUS
        self._now: datetime | None = None
        self._read_clock = False
        # Set by resolvers whose answer depends on more than the catalog's data version (who
        # asks, the tokens table): such a response is never cached.
        self.uncacheable = False
        # Set by resolvers that show a source's sync state: the cached answer is then valid
        # only while the sync version stays where it was (see api.cache).
        self.read_sync_state = False

    @cached_property
    def loaders(self) -> Loaders:
        # Made when a resolver first asks: a compiled operation (api.direct) never does.
        return Loaders(self.catalog)

    @property
    def now(self) -> datetime:
        """One reading of the catalog's clock per request, so every "is it stale?" in a
        response is judged at the same instant. Reading it marks the response as depending on
        the time: the response cache keeps it only while the clock, rounded down to
        ``clock_step``, still reads the same (see :meth:`instant`)."""
        self._read_clock = True
        return self.instant()

    def instant(self) -> datetime:
        """The request's "now" without marking the response as reading it: the catalog's
        clock, read once, rounded down to a multiple of ``clock_step`` (0: not rounded). The
        app rounds (:data:`CLOCK_STEP`) so that a question relative to now ("failed in the
        last seven days", "stale now") has one answer per step, which the cache can keep."""
        if self._now is None:
            self._now = round_down(self.catalog.clock(), self.clock_step)
        return self._now

    @property
    def read_clock(self) -> bool:
        return self._read_clock


def round_down(moment: datetime, step: timedelta) -> datetime:
    """``moment`` rounded down to a multiple of ``step`` since the Unix epoch (in its zone)."""
    if step <= timedelta(0):
        return moment
    epoch = datetime(1970, 1, 1, tzinfo=moment.tzinfo)
    return moment - (moment - epoch) % step


Info = strawberry.Info[Context, None]
