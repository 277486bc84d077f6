"""Pages of runs and assets as plain rows, with what their answers show.

The same filters, order and cursors as :mod:`catalog.store.reads` (the conditions are its
own), read as tuples through prepared statements (:mod:`catalog.store.prepared`) instead of
ORM objects: a page with its count and the rows it refers to in two to four statements.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, bindparam, func, literal, or_, select, tuple_, union_all

from catalog.filters import AssetFilter, RunFilter
from catalog.pagination import (
    Page,
    PageRequest,
    decode_cursor,
    encode_id_cursor,
    encode_time_cursor,
)
from catalog.store import conditions, reads
from catalog.store import tables as t
from catalog.store.prepared import Cursor, Statements, padded

__all__ = ["AssetRow", "AssetRows", "RunRow", "RunRows"]

RUN, PIPELINE, SOURCE, ASSET, EDGE = (
    reads.RUN,
    reads.PIPELINE,
    reads.SOURCE,
    reads.ASSET,
    reads.EDGE,
)
OWNER, TAG, TASK = t.table(t.Owner).c, t.table(t.Tag).c, reads.TASK
ALIAS = t.table(t.AssetAlias).c
Values = dict[str, Any]


@dataclass(frozen=True, slots=True)
class RunRow:
    id: int
    external_id: str
    status: str
    raw_status: str | None
    trigger: str
    started_at: datetime | None
    duration_s: float | None
    error: str | None
    ui_url: str | None
    happened_at: datetime
    pipeline_id: int
    pipeline_name: str
    source_name: str  # the pipeline's source
    source_kind: str


@dataclass(frozen=True, slots=True)
class RunRows:
    page: Page[RunRow]
    total: int | None
    owners: dict[int, list[str]] = field(default_factory=dict)  # of the pipelines
    run_owners: dict[int, list[str]] = field(default_factory=dict)  # the runs' own


@dataclass(frozen=True, slots=True)
class AssetRow:
    id: int
    uri: str
    kind: str | None
    freshness_max_age_s: float | None
    last_produced_at: datetime | None
    stale_after: datetime | None


@dataclass(frozen=True, slots=True)
class AssetRows:
    page: Page[AssetRow]
    total: int | None
    owners: dict[int, list[str]]
    tags: dict[int, list[str]]
    aliases: dict[int, list[tuple[str, str]]]  # (alias, source name), oldest first


def _count(
    st: Statements, cursor: Cursor, key: Hashable, build: Callable[[], Select[Any]], v: Values
) -> int:
    (found,) = st.get(key, build).rows(cursor, v)
    return int(found[0] or 0)


# -- runs -------------------------------------------------------------------------------------

_RUN_COLUMNS = (
    RUN.id, RUN.external_id, RUN.status, RUN.raw_status, RUN.trigger, RUN.started_at,
    RUN.duration_s, RUN.error, RUN.ui_url, RUN.happened_at, RUN.pipeline_id,
    PIPELINE.name, SOURCE.name, SOURCE.kind,
)  # fmt: skip


def read_run_rows(
    st: Statements,
    cursor: Cursor,
    f: RunFilter,
    page: PageRequest,
    *,
    count: bool,
    owners: bool = False,
) -> RunRows:
    """A newest-first page of runs with their pipelines and sources (as ``reads.read_runs``
    and ``reads.count_runs``); ``owners``: the pipelines' owners and the runs' own."""
    v = conditions.run_values(f)
    names = tuple(v)
    after = page.after is not None
    if page.after is not None:
        last_at, last_id = decode_cursor(page.after, arity=2)
        v["after_at"], v["after_id"] = reads._parse_time(last_at), reads._parse_id(last_id)
    v["limit"] = page.first + 1

    def build() -> Select[Any]:
        query = (
            select(*_RUN_COLUMNS)
            .join(t.table(t.Pipeline), PIPELINE.id == RUN.pipeline_id)
            .join(t.table(t.Source), SOURCE.id == PIPELINE.source_id)
            .where(*conditions.run_conditions(f))
        )
        if after:
            bound = tuple_(
                bindparam("after_at", type_=RUN.happened_at.type),
                bindparam("after_id", type_=RUN.id.type),
            )
            query = query.where(tuple_(RUN.happened_at, RUN.id) < bound)
        order = (RUN.happened_at.desc(), RUN.id.desc())
        return query.order_by(*order).limit(bindparam("limit", type_=RUN.id.type))

    rows = st.get(("runs", names, after), build).rows(cursor, v)
    items = [RunRow(*r) for r in rows[: page.first]]
    found = Page(
        items, [encode_time_cursor(r.happened_at, r.id) for r in items], len(rows) > page.first
    )
    total = None
    if count:
        total = _count(
            st,
            cursor,
            ("count_runs", names),
            lambda: select(func.count()).select_from(t.Run).where(*conditions.run_conditions(f)),
            v,
        )
    if not owners or not items:
        return RunRows(found, total)
    of_pipelines, of_runs = _owners_of_runs(st, cursor, items)
    return RunRows(found, total, of_pipelines, of_runs)


def _owners_of_runs(
    st: Statements, cursor: Cursor, runs: Sequence[RunRow]
) -> tuple[dict[int, list[str]], dict[int, list[str]]]:
    pipelines = padded(sorted({r.pipeline_id for r in runs}))
    ids = padded([r.id for r in runs])
    v: Values = {f"p_{i}": p for i, p in enumerate(pipelines)}
    v.update({f"r_{i}": r for i, r in enumerate(ids)})

    def build() -> Select[Any]:
        return (
            select(OWNER.entity_kind, OWNER.entity_id, OWNER.name)
            .where(
                or_(
                    and_(
                        OWNER.entity_kind == "pipeline",
                        OWNER.entity_id.in_([bindparam(f"p_{i}") for i in range(len(pipelines))]),
                    ),
                    and_(
                        OWNER.entity_kind == "run",
                        OWNER.entity_id.in_([bindparam(f"r_{i}") for i in range(len(ids))]),
                    ),
                )
            )
            .order_by(OWNER.name)
        )

    of: dict[str, dict[int, list[str]]] = {"pipeline": defaultdict(list), "run": defaultdict(list)}
    for kind, ident, name in st.get(("owners_of_runs", len(pipelines), len(ids)), build).rows(
        cursor, v
    ):
        of[kind][ident].append(name)
    return dict(of["pipeline"]), dict(of["run"])


# -- assets -----------------------------------------------------------------------------------

_ASSET_COLUMNS = (
    ASSET.id, ASSET.uri, ASSET.kind, ASSET.freshness_max_age_s, ASSET.last_produced_at,
    ASSET.stale_after,
)  # fmt: skip


def read_asset_rows(
    st: Statements, cursor: Cursor, f: AssetFilter, page: PageRequest, *, count: bool
) -> AssetRows:
    """A page of assets by id (as ``reads.read_assets`` and ``reads.count_assets``) with their
    owners, tags, and aliases with the aliases' sources' names."""
    v = conditions.asset_values(f)
    names = tuple(v)
    after = page.after is not None
    if page.after is not None:
        (last,) = decode_cursor(page.after, arity=1)
        v["after_id"] = reads._parse_id(last)
    v["limit"] = page.first + 1

    def build() -> Select[Any]:
        query = select(*_ASSET_COLUMNS).where(*conditions.asset_conditions(f))
        if after:
            query = query.where(ASSET.id > bindparam("after_id", type_=ASSET.id.type))
        return query.order_by(ASSET.id).limit(bindparam("limit", type_=ASSET.id.type))

    rows = st.get(("assets", names, after), build).rows(cursor, v)
    items = [AssetRow(*r) for r in rows[: page.first]]
    found = Page(items, [encode_id_cursor(r.id) for r in items], len(rows) > page.first)
    total = None
    if count:
        total = _count(
            st,
            cursor,
            ("count_assets", names),
            lambda: (
                select(func.count()).select_from(t.Asset).where(*conditions.asset_conditions(f))
            ),
            v,
        )
    owners: dict[int, list[str]] = defaultdict(list)
    tags: dict[int, list[str]] = defaultdict(list)
    aliases: dict[int, list[tuple[str, str]]] = defaultdict(list)
    if items:
        ids = padded([r.id for r in items])
        iv: Values = {f"a_{i}": a for i, a in enumerate(ids)}

        def binds() -> list[Any]:
            return [bindparam(f"a_{i}") for i in range(len(ids))]

        def labels() -> Select[Any]:
            return union_all(
                select(literal("owner"), OWNER.entity_id, OWNER.name.label("value")).where(
                    OWNER.entity_kind == "asset", OWNER.entity_id.in_(binds())
                ),
                select(literal("tag"), TAG.entity_id, TAG.tag.label("value")).where(
                    TAG.entity_kind == "asset", TAG.entity_id.in_(binds())
                ),
            ).order_by("value")  # type: ignore[return-value]

        for which, ident, value in st.get(("asset_labels", len(ids)), labels).rows(cursor, iv):
            (owners if which == "owner" else tags)[ident].append(value)

        def of_aliases() -> Select[Any]:
            return (
                select(ALIAS.asset_id, ALIAS.alias, SOURCE.name)
                .join(t.table(t.Source), SOURCE.id == ALIAS.source_id)
                .where(ALIAS.asset_id.in_(binds()))
                .order_by(ALIAS.id)
            )

        for ident, alias, source in st.get(("asset_aliases", len(ids)), of_aliases).rows(
            cursor, iv
        ):
            aliases[ident].append((alias, source))
    return AssetRows(found, total, dict(owners), dict(tags), dict(aliases))
