"""Reading the catalog: every query the API needs, keyset-paginated, batched for loaders."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Select,
    func,
    or_,
    select,
    tuple_,
    union,
)
from sqlalchemy.orm import Session
from sqlmodel import SQLModel

from catalog.enums import AssetEventKind, NodeKind, RunStatus
from catalog.errors import InvalidArgument
from catalog.filters import AssetFilter, PipelineFilter, RunFilter
from catalog.pagination import Page, PageRequest, decode_cursor, encode_cursor
from catalog.store import tables as t
from catalog.store.conditions import (
    asset_conditions,
    pipeline_conditions,
    run_conditions,
    source_ids,
    stale_condition,
)
from catalog.store.writes import EPOCH, chunks

M = TypeVar("M", bound=SQLModel)

RUN = t.table(t.Run).c
PIPELINE = t.table(t.Pipeline).c
ASSET = t.table(t.Asset).c
EVENT = t.table(t.AssetEvent).c
SOURCE = t.table(t.Source).c
TASK = t.table(t.Task).c
EDGE = t.table(t.LineageEdge).c
LINK = t.table(t.AssetLink).c
TASK_RUN = t.table(t.TaskRun).c
SYNC = t.table(t.SyncState).c


def _col(model: type[SQLModel], name: str) -> Any:
    return t.table(model).c[name]


def _parse_id(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InvalidArgument("after", "is not a cursor this list returned") from None


def _page_by_id(session: Session, query: Select[Any], model: type[M], page: PageRequest) -> Page[M]:
    ident = _col(model, "id")
    if page.after is not None:
        (last,) = decode_cursor(page.after, arity=1)
        query = query.where(ident > _parse_id(last))
    rows = list(session.scalars(query.order_by(ident).limit(page.first + 1)))
    items = rows[: page.first]
    return Page(items, [encode_cursor(r.id) for r in items], len(rows) > page.first)


def _parse_time(value: Any) -> datetime:
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        raise InvalidArgument("after", "is not a cursor this list returned") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _page_by_time(
    session: Session,
    query: Select[Any],
    model: type[M],
    time_col: str,
    page: PageRequest,
    *,
    newest_first: bool = True,
) -> Page[M]:
    at, ident = _col(model, time_col), _col(model, "id")
    if page.after is not None:
        last_at, last_id = decode_cursor(page.after, arity=2)
        key = tuple_(at, ident)
        bound = tuple_(_parse_time(last_at), _parse_id(last_id))
        query = query.where(key < bound if newest_first else key > bound)
    order = (at.desc(), ident.desc()) if newest_first else (at.asc(), ident.asc())
    rows = list(session.scalars(query.order_by(*order).limit(page.first + 1)))
    items = rows[: page.first]
    cursors = [encode_cursor(getattr(r, time_col), r.id) for r in items]
    return Page(items, cursors, len(rows) > page.first)


# -- runs -------------------------------------------------------------------------------------


def read_runs(session: Session, f: RunFilter, page: PageRequest) -> Page[t.Run]:
    query = select(t.Run).where(*run_conditions(f))
    return _page_by_time(session, query, t.Run, "happened_at", page)


def count_runs(session: Session, f: RunFilter) -> int:
    return int(
        session.scalar(select(func.count()).select_from(t.Run).where(*run_conditions(f))) or 0
    )


def read_run_by_external_id(session: Session, source: str, external_id: str) -> t.Run | None:
    return session.scalars(
        select(t.Run).where(RUN.source_id.in_(source_ids([source])), RUN.external_id == external_id)
    ).first()


# -- pipelines and assets ---------------------------------------------------------------------


def read_pipelines(session: Session, f: PipelineFilter, page: PageRequest) -> Page[t.Pipeline]:
    query = select(t.Pipeline).where(*pipeline_conditions(f))
    return _page_by_id(session, query, t.Pipeline, page)


def count_pipelines(session: Session, f: PipelineFilter) -> int:
    return int(
        session.scalar(select(func.count()).select_from(t.Pipeline).where(*pipeline_conditions(f)))
        or 0
    )


def read_assets(session: Session, f: AssetFilter, page: PageRequest) -> Page[t.Asset]:
    return _page_by_id(session, select(t.Asset).where(*asset_conditions(f)), t.Asset, page)


def count_assets(session: Session, f: AssetFilter) -> int:
    return int(
        session.scalar(select(func.count()).select_from(t.Asset).where(*asset_conditions(f))) or 0
    )


def read_asset_by_uri(session: Session, uri: str) -> t.Asset | None:
    return session.scalars(select(t.Asset).where(ASSET.uri == uri)).first()


def read_stale_assets(session: Session, now: datetime, page: PageRequest) -> Page[t.Asset]:
    """Assets past their freshness policy, longest overdue first (never produced: first of all)."""
    a = ASSET
    key = func.coalesce(a.stale_after, EPOCH)
    query = select(t.Asset).where(stale_condition(now))
    if page.after is not None:
        last_at, last_id = decode_cursor(page.after, arity=2)
        query = query.where(tuple_(key, a.id) > tuple_(_parse_time(last_at), _parse_id(last_id)))
    rows = list(session.scalars(query.order_by(key, a.id).limit(page.first + 1)))
    items = rows[: page.first]
    cursors = [encode_cursor(r.stale_after or EPOCH, r.id) for r in items]
    return Page(items, cursors, len(rows) > page.first)


def count_stale_assets(session: Session, now: datetime) -> int:
    return int(
        session.scalar(select(func.count()).select_from(t.Asset).where(stale_condition(now))) or 0
    )


def _produced_conditions(start: datetime, end: datetime) -> list[ColumnElement[bool]]:
    e = EVENT
    return [e.kind == AssetEventKind.PRODUCED.value, e.at >= start, e.at < end]


def read_produced_between(
    session: Session, start: datetime, end: datetime, page: PageRequest
) -> Page[t.AssetEvent]:
    query = select(t.AssetEvent).where(*_produced_conditions(start, end))
    return _page_by_time(session, query, t.AssetEvent, "at", page)


def count_produced_between(session: Session, start: datetime, end: datetime) -> int:
    return int(
        session.scalar(
            select(func.count()).select_from(t.AssetEvent).where(*_produced_conditions(start, end))
        )
        or 0
    )


# -- batched reads for DataLoaders --------------------------------------------------------------


def read_by_ids(session: Session, model: type[M], ids: Sequence[int]) -> list[M | None]:
    found: dict[int, M] = {}
    ident = _col(model, "id")
    for part in chunks(sorted(set(ids))):
        rows = session.scalars(select(model).where(ident.in_(part)))
        found.update({getattr(r, "id"): r for r in rows})  # noqa: B009  (M has no typed id)
    return [found.get(i) for i in ids]


def read_children(
    session: Session,
    model: type[M],
    parent: str,
    ids: Sequence[int],
    order: Iterable[str] = ("id",),
    where: Sequence[ColumnElement[bool]] = (),
) -> list[list[M]]:
    """Rows of ``model`` grouped by their ``parent`` column, one list per id in ``ids``."""
    groups: dict[int, list[M]] = defaultdict(list)
    parent_col = _col(model, parent)
    for part in chunks(sorted(set(ids))):
        query = (
            select(model)
            .where(parent_col.in_(part), *where)
            # NULLs sort first on SQLite and last on PostgreSQL unless told: say "last".
            .order_by(*(_col(model, o).asc().nulls_last() for o in order))
        )
        for row in session.scalars(query):
            groups[getattr(row, parent)].append(row)
    return [groups.get(i, []) for i in ids]


def read_latest_children(
    session: Session,
    model: type[M],
    parent: str,
    ids: Sequence[int],
    time_col: str,
    page: PageRequest,
) -> list[Page[M]]:
    """One newest-first keyset page of ``model`` rows per ``parent`` id, one query per chunk.

    ROW_NUMBER() over each parent's rows (SQLite 3.25+, PostgreSQL) fetches ``first + 1`` rows
    of every parent at once, so a list of pipelines with their latest runs is not N+1 queries.
    """
    at, ident, parent_col = _col(model, time_col), _col(model, "id"), _col(model, parent)
    where: list[ColumnElement[bool]] = []
    if page.after is not None:
        last_at, last_id = decode_cursor(page.after, arity=2)
        where.append(tuple_(at, ident) < tuple_(_parse_time(last_at), _parse_id(last_id)))
    groups: dict[int, list[M]] = defaultdict(list)
    for part in chunks(sorted(set(ids))):
        rank = func.row_number().over(partition_by=parent_col, order_by=(at.desc(), ident.desc()))
        ranked = select(ident.label("id"), rank.label("rank")).where(parent_col.in_(part), *where)
        sub = ranked.subquery()
        query = (
            select(model)
            .join(sub, ident == sub.c.id)
            .where(sub.c.rank <= page.first + 1)
            .order_by(parent_col, at.desc(), ident.desc())
        )
        for row in session.scalars(query):
            groups[getattr(row, parent)].append(row)
    pages: list[Page[M]] = []
    for i in ids:
        rows = groups.get(i, [])
        items = rows[: page.first]
        cursors = [encode_cursor(getattr(r, time_col), getattr(r, "id")) for r in items]  # noqa: B009
        pages.append(Page(items, cursors, len(rows) > page.first))
    return pages


def count_children(
    session: Session, model: type[SQLModel], parent: str, ids: Sequence[int]
) -> list[int]:
    parent_col = _col(model, parent)
    counts: dict[int, int] = {}
    for part in chunks(sorted(set(ids))):
        query = select(parent_col, func.count()).where(parent_col.in_(part)).group_by(parent_col)
        counts.update({p: int(n) for p, n in session.execute(query)})
    return [counts.get(i, 0) for i in ids]


def read_labels(
    session: Session, table: type[t.Owner] | type[t.Tag], kind: str, ids: Sequence[int]
) -> list[list[str]]:
    c = t.table(table).c
    column = c.name if table is t.Owner else c.tag
    groups: dict[int, list[str]] = defaultdict(list)
    for part in chunks(sorted(set(ids))):
        query = (
            select(c.entity_id, column)
            .where(c.entity_kind == kind, c.entity_id.in_(part))
            .order_by(column)
        )
        for entity_id, value in session.execute(query):
            groups[entity_id].append(value)
    return [groups.get(i, []) for i in ids]


def read_sync_states(session: Session, source_ids: Sequence[int]) -> list[t.SyncState | None]:
    found: dict[int, t.SyncState] = {}
    for part in chunks(sorted(set(source_ids))):
        query = select(t.SyncState).where(SYNC.source_id.in_(part))
        found.update({s.source_id: s for s in session.scalars(query)})
    return [found.get(i) for i in source_ids]


def read_sources(session: Session, page: PageRequest) -> Page[t.Source]:
    return _page_by_id(session, select(t.Source), t.Source, page)


def count_sources(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(t.Source)) or 0)


# -- lineage ---------------------------------------------------------------------------------


def read_edges(session: Session) -> Iterable[tuple[Any, ...]]:
    e = EDGE
    query = select(e.from_kind, e.from_id, e.to_kind, e.to_id, e.source_id, e.origin, e.first_seen)
    return session.execute(query.execution_options(yield_per=10_000))


def read_links(session: Session) -> Iterable[t.AssetLink]:
    return session.scalars(select(t.AssetLink))


def read_links_of_assets(session: Session, asset_ids: Sequence[int]) -> list[list[t.AssetLink]]:
    """The links of each asset, oldest first, in one statement."""
    link = LINK
    ids = list(asset_ids)
    query = select(t.AssetLink).where(or_(link.asset_id.in_(ids), link.other_id.in_(ids)))
    found: dict[int, list[t.AssetLink]] = {i: [] for i in ids}
    for row in session.scalars(query.order_by(link.linked_at, link.id)):
        for end in {row.asset_id, row.other_id}:
            if end in found:
                found[end].append(row)
    return [found[i] for i in ids]


def read_asset_uris(session: Session) -> Iterable[tuple[int, str]]:
    query = select(ASSET.id, ASSET.uri).order_by(ASSET.id)
    # Plain (id, uri) tuples, not Rows: callers keep them beyond the session.
    return [(i, u) for i, u in session.execute(query.execution_options(yield_per=10_000))]


def read_asset_uris_containing(session: Session, text: str) -> list[tuple[int, str]]:
    """``(id, uri)`` of the assets whose URI contains ``text``, any case."""
    contains = func.lower(ASSET.uri).contains(text.lower(), autoescape=True)
    query = select(ASSET.id, ASSET.uri).where(contains).order_by(ASSET.id)
    return [(i, u) for i, u in session.execute(query)]


def read_task_ids_of_pipeline(session: Session, pipeline_id: int) -> list[int]:
    return list(session.scalars(select(TASK.id).where(TASK.pipeline_id == pipeline_id)))


def read_assets_produced_by_run(session: Session, run_id: int) -> list[int]:
    e = EVENT
    query = (
        select(e.asset_id)
        .where(e.run_id == run_id, e.kind == AssetEventKind.PRODUCED.value)
        .distinct()
    )
    return list(session.scalars(query))


def read_latest_durations(
    session: Session, since: datetime, per_task: int
) -> list[tuple[int, int, float]]:
    """``(task id, rank, seconds)`` of each task's latest ``per_task`` successful attempts
    started since ``since``; rank 1 is the latest. One pass over ix_task_run_task_started."""
    tr = TASK_RUN
    rank = func.row_number().over(
        partition_by=tr.task_id, order_by=(tr.started_at.desc(), tr.id.desc())
    )
    ranked = (
        select(tr.task_id, rank.label("rank"), tr.duration_s)
        .where(
            tr.status == RunStatus.SUCCESS.value,
            tr.duration_s.is_not(None),
            tr.started_at >= since,
        )
        .subquery()
    )
    query = select(ranked.c.task_id, ranked.c.rank, ranked.c.duration_s).where(
        ranked.c.rank <= per_task
    )
    return [(task, rank, seconds) for task, rank, seconds in session.execute(query)]


def read_sources_of_assets(session: Session, asset_ids: Sequence[int]) -> list[list[int]]:
    """Which sources know each asset: those that name it (an alias) or that reported an edge
    to or from it (a task writing it, a job reading it), in one statement."""
    ids = list(asset_ids)
    alias, edge, asset = t.table(t.AssetAlias).c, EDGE, NodeKind.ASSET.value
    query = union(
        select(alias.asset_id, alias.source_id).where(alias.asset_id.in_(ids)),
        select(edge.from_id, edge.source_id).where(edge.from_kind == asset, edge.from_id.in_(ids)),
        select(edge.to_id, edge.source_id).where(edge.to_kind == asset, edge.to_id.in_(ids)),
    )
    found: dict[int, list[int]] = {i: [] for i in ids}
    for asset_id, source_id in sorted(session.execute(query)):
        found[asset_id].append(source_id)
    return [found[i] for i in ids]
