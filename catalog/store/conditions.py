"""The filters' conditions: each filter as WHERE clauses, its values bound by name.

The ORM reads (``catalog.store.reads``) and the prepared reads (``catalog.store.rows``) build
their statements from the same conditions, so both paths select exactly the same rows. Values
are named binds: a prepared statement is compiled once per set of names (its shape) and each
request binds its own values (``catalog.store.prepared``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, Select, bindparam, func, or_, select

from catalog.filters import AssetFilter, PipelineFilter, RunFilter
from catalog.store import tables as t

ASSET = t.table(t.Asset).c
PIPELINE = t.table(t.Pipeline).c
RUN = t.table(t.Run).c
SOURCE = t.table(t.Source).c


def _labelled(kind: str, model: type[t.Owner] | type[t.Tag], value: Any) -> Select[Any]:
    c = t.table(model).c
    column = c.name if model is t.Owner else c.tag
    return select(c.entity_id).where(c.entity_kind == kind, column == value)


def source_ids(names: Sequence[Any]) -> Select[Any]:
    return select(SOURCE.id).where(SOURCE.name.in_(names))


def _put(values: dict[str, Any], name: str, items: Sequence[Any]) -> None:
    values.update((f"{name}_{i}", v) for i, v in enumerate(items))


def _binder(values: dict[str, Any]) -> Callable[[str], BindParameter[Any]]:
    # Named binds: catalog.store.rows compiles a statement once per set of names (its shape)
    # and binds each request's values (catalog.store.prepared).
    return lambda name: bindparam(name, values[name])


def _each(bind: Callable[[str], BindParameter[Any]], name: str, n: int) -> list[Any]:
    return [bind(f"{name}_{i}") for i in range(n)]


# -- runs -------------------------------------------------------------------------------------


def run_values(f: RunFilter) -> dict[str, Any]:
    """The filter's values by the names its conditions bind them under."""
    v: dict[str, Any] = {}
    _put(v, "f_status", [s.value for s in f.statuses])
    _put(v, "f_trigger", [k.value for k in f.triggers])
    _put(v, "f_source", f.sources)
    _put(v, "f_pipeline", f.pipeline_ids)
    if f.owner is not None:
        v["f_owner"] = f.owner
    if f.tag is not None:
        v["f_tag"] = f.tag
    if f.since is not None:
        v["f_since"] = f.since
    if f.until is not None:
        v["f_until"] = f.until
    return v


def run_conditions(f: RunFilter) -> list[ColumnElement[bool]]:
    run, b = RUN, _binder(run_values(f))
    where: list[ColumnElement[bool]] = []
    if f.statuses:
        where.append(run.status.in_(_each(b, "f_status", len(f.statuses))))
    if f.triggers:
        where.append(run.trigger.in_(_each(b, "f_trigger", len(f.triggers))))
    if f.sources:
        where.append(run.source_id.in_(source_ids(_each(b, "f_source", len(f.sources)))))
    if f.pipeline_ids:
        where.append(run.pipeline_id.in_(_each(b, "f_pipeline", len(f.pipeline_ids))))
    # A run is owned or tagged through its own labels or its pipeline's.
    for model, value, name in ((t.Owner, f.owner, "f_owner"), (t.Tag, f.tag, "f_tag")):
        if value is not None:
            label = b(name)
            where.append(
                or_(
                    run.pipeline_id.in_(_labelled("pipeline", model, label)),
                    run.id.in_(_labelled("run", model, label)),
                )
            )
    if f.since is not None:
        where.append(run.happened_at >= b("f_since"))
    if f.until is not None:
        where.append(run.happened_at < b("f_until"))
    return where


def pipeline_conditions(f: PipelineFilter) -> list[ColumnElement[bool]]:
    p = PIPELINE
    where: list[ColumnElement[bool]] = []
    if f.sources:
        where.append(p.source_id.in_(source_ids(f.sources)))
    if f.owner is not None:
        where.append(p.id.in_(_labelled("pipeline", t.Owner, f.owner)))
    if f.tag is not None:
        where.append(p.id.in_(_labelled("pipeline", t.Tag, f.tag)))
    if f.search:
        pattern = f"%{f.search.lower()}%"
        where.append(or_(func.lower(p.name).like(pattern), func.lower(p.external_id).like(pattern)))
    return where


def asset_values(f: AssetFilter) -> dict[str, Any]:
    """The filter's values by the names its conditions bind them under."""
    v: dict[str, Any] = {}
    if f.owner is not None:
        v["f_owner"] = f.owner
    if f.tag is not None:
        v["f_tag"] = f.tag
    if f.uri_prefix:
        # As startswith(autoescape=True) escapes a literal, done here to the bound value.
        v["f_uri_prefix"] = f.uri_prefix.replace("/", "//").replace("%", "/%").replace("_", "/_")
    if f.search:
        v["f_search"] = f"%{f.search.lower()}%"
    return v


def asset_conditions(f: AssetFilter) -> list[ColumnElement[bool]]:
    a, b = ASSET, _binder(asset_values(f))
    where: list[ColumnElement[bool]] = []
    if f.owner is not None:
        where.append(a.id.in_(_labelled("asset", t.Owner, b("f_owner"))))
    if f.tag is not None:
        where.append(a.id.in_(_labelled("asset", t.Tag, b("f_tag"))))
    if f.uri_prefix:
        where.append(a.uri.startswith(b("f_uri_prefix"), escape="/"))
    if f.search:
        where.append(func.lower(a.uri).like(b("f_search")))
    return where


def stale_condition(now: datetime) -> ColumnElement[bool]:
    """Past its freshness policy at ``now``; never produced, with a policy, counts as stale."""
    a = ASSET
    never = (a.freshness_max_age_s.is_not(None)) & (a.last_produced_at.is_(None))
    return or_(a.stale_after < now, never)
