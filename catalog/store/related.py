"""The rows a page of runs or assets refers to, read with the page in a fixed number of statements.

A list answer that shows each run's pipeline, its owners and its source costs one statement per
relation, whatever the page's size: the reads here take the page's rows and return maps by id.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.store import reads
from catalog.store import tables as t
from catalog.store.writes import chunks


@dataclass(frozen=True, slots=True)
class Related:
    """Rows by id; a relation nobody asked for stays empty."""

    pipelines: dict[int, t.Pipeline] = field(default_factory=dict)
    tasks: dict[int, t.Task] = field(default_factory=dict)
    sources: dict[int, t.Source] = field(default_factory=dict)
    assets: dict[int, t.Asset] = field(default_factory=dict)
    owners: dict[int, list[str]] = field(default_factory=dict)  # of the page's pipelines/assets
    run_owners: dict[int, list[str]] = field(default_factory=dict)  # the runs' own owners
    tags: dict[int, list[str]] = field(default_factory=dict)
    aliases: dict[int, list[t.AssetAlias]] = field(default_factory=dict)
    sources_of_assets: dict[int, list[int]] = field(default_factory=dict)


def _by_id(session: Session, model: type[reads.M], ids: Sequence[int]) -> dict[int, reads.M]:
    unique = sorted(set(ids))
    rows = reads.read_by_ids(session, model, unique)
    return {i: r for i, r in zip(unique, rows, strict=True) if r is not None}


def _labels(
    session: Session, table: type[t.Owner] | type[t.Tag], kind: str, ids: Sequence[int]
) -> dict[int, list[str]]:
    unique = sorted(set(ids))
    return dict(zip(unique, reads.read_labels(session, table, kind, unique), strict=True))


def related_of_runs(
    session: Session,
    runs: Sequence[t.Run],
    *,
    pipelines: bool,
    owners: bool,
    sources: bool,
    run_owners: bool = False,
) -> Related:
    """The runs' pipelines (with their owners) and the pipelines' and runs' sources;
    ``run_owners``: the runs' own owners, and their pipelines' owners too (a run's owners are
    its own, then its pipeline's)."""
    found_pipelines: dict[int, t.Pipeline] = {}
    found_sources: dict[int, t.Source] = {}
    if pipelines and sources:
        # One statement for both: every pipeline with its source.
        pipeline, source = t.table(t.Pipeline).c, t.table(t.Source).c
        for part in chunks(sorted({r.pipeline_id for r in runs})):
            query = (
                select(t.Pipeline, t.Source)
                .join(t.Source, source.id == pipeline.source_id)
                .where(pipeline.id.in_(part))
            )
            for p, s in session.execute(query):
                found_pipelines[p.id or 0] = p
                found_sources[s.id or 0] = s
    elif pipelines:
        found_pipelines = _by_id(session, t.Pipeline, [r.pipeline_id for r in runs])
    if sources:
        # A run's source is its pipeline's, but a run may be asked for its own.
        missing = [r.source_id for r in runs if r.source_id not in found_sources]
        found_sources.update(_by_id(session, t.Source, missing) if missing else {})
    owned = [*found_pipelines] if owners else []
    if run_owners:
        owned += [r.pipeline_id for r in runs]
    found_owners = _labels(session, t.Owner, "pipeline", owned) if owned else {}
    of_runs = (
        _labels(session, t.Owner, "run", [r.id for r in runs if r.id is not None])
        if run_owners
        else {}
    )
    return Related(
        pipelines=found_pipelines, sources=found_sources, owners=found_owners, run_owners=of_runs
    )


def related_of_assets(
    session: Session, assets: Sequence[t.Asset], *, owners: bool, tags: bool, aliases: bool
) -> Related:
    """The assets' owners, tags, and aliases with the aliases' sources."""
    ids = [a.id for a in assets if a.id is not None]
    found_aliases: dict[int, list[t.AssetAlias]] = {}
    found_sources: dict[int, t.Source] = {}
    if aliases:
        found_aliases = dict(
            zip(ids, reads.read_children(session, t.AssetAlias, "asset_id", ids), strict=True)
        )
        source_ids = [a.source_id for rows in found_aliases.values() for a in rows]
        found_sources = _by_id(session, t.Source, source_ids)
    return Related(
        sources=found_sources,
        owners=_labels(session, t.Owner, "asset", ids) if owners else {},
        tags=_labels(session, t.Tag, "asset", ids) if tags else {},
        aliases=found_aliases,
    )


def related_of_nodes(
    session: Session,
    assets: Sequence[int],
    pipelines: Sequence[int],
    tasks: Sequence[int],
    edge_sources: Sequence[int],
) -> Related:
    """A lineage graph's entities, the sources that know each, and its edges' sources."""
    found_tasks = _by_id(session, t.Task, tasks)
    found_pipelines = _by_id(
        session, t.Pipeline, [*pipelines, *(task.pipeline_id for task in found_tasks.values())]
    )
    unique_assets = sorted(set(assets))
    of_assets = dict(
        zip(unique_assets, reads.read_sources_of_assets(session, unique_assets), strict=True)
    )
    source_ids = [
        *edge_sources,
        *(p.source_id for p in found_pipelines.values()),
        *(s for ids in of_assets.values() for s in ids),
    ]
    return Related(
        pipelines=found_pipelines,
        tasks=found_tasks,
        sources=_by_id(session, t.Source, source_ids),
        assets=_by_id(session, t.Asset, unique_assets),
        sources_of_assets=of_assets,
    )
