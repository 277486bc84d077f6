"""What the catalog holds, read back in the shapes the adapters' integration tests compare
against each orchestrator's own API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from catalog.store import tables as t
from catalog.store.store import Store
from catalog.sync_types import SyncResult, SyncStatus
from tests.catalog.store.snapshot import BOOKKEEPING, snapshot
from tests.peers.proxy import FaultProxy


def catalog_runs(store: Store) -> dict[str, t.Run]:
    with store.session() as s:
        return {r.external_id: r for r in s.scalars(select(t.Run))}


def catalog_task_runs(store: Store, *columns: Any) -> set[tuple[Any, ...]]:
    """(run, task, *columns) of every task run: ``columns`` of ``t.TaskRun``."""
    q = (
        select(t.Run.external_id, t.Task.external_id, *columns)
        .join(t.Run, t.Run.id == t.TaskRun.run_id)  # type: ignore[arg-type]
        .join(t.Task, t.Task.id == t.TaskRun.task_id)  # type: ignore[arg-type]
    )
    with store.session() as s:
        return {tuple(row) for row in s.execute(q)}


def catalog_attempts(store: Store) -> set[tuple[Any, ...]]:
    """(run, task, attempt, task run id, status) of every task run."""
    tr = t.TaskRun
    return catalog_task_runs(store, tr.attempt, tr.external_id, tr.status)


def catalog_labels(store: Store, table: type[t.Tag] | type[t.Owner], kind: str) -> set[Any]:
    """(entity id, label) of every tag or owner on entities of ``kind``."""
    column = t.Tag.tag if table is t.Tag else t.Owner.name
    with store.session() as s:
        return set(
            s.execute(select(table.entity_id, column).where(table.entity_kind == kind)).all()
        )


def catalog_edges(store: Store) -> set[tuple[str, str, str]]:
    """(origin, upstream, downstream) with nodes named ``asset:uri``, ``task:pipeline.task``,
    ``pipeline:pipeline``."""
    with store.session() as s:
        assets = {a.id: a.uri for a in s.scalars(select(t.Asset))}
        tasks = {
            k.id: f"{p}.{k.external_id}"
            for k, p in s.execute(
                select(t.Task, t.Pipeline.external_id).join(
                    t.Pipeline,
                    t.Pipeline.id == t.Task.pipeline_id,  # type: ignore[arg-type]
                )
            )
        }
        pipelines = {p.id: p.external_id for p in s.scalars(select(t.Pipeline))}
        names = {"asset": assets, "task": tasks, "pipeline": pipelines}
        return {
            (
                e.origin,
                f"{e.from_kind}:{names[e.from_kind][e.from_id]}",
                f"{e.to_kind}:{names[e.to_kind][e.to_id]}",
            )
            for e in s.scalars(select(t.LineageEdge))
        }


def pipeline_of_runs(store: Store) -> dict[str, str]:
    """Run id → the external id of its pipeline."""
    with store.session() as s:
        return {
            run: pipeline
            for run, pipeline in s.execute(
                select(t.Run.external_id, t.Pipeline.external_id).join(
                    t.Pipeline,
                    t.Pipeline.id == t.Run.pipeline_id,  # type: ignore[arg-type]
                )
            )
        }


def assert_a_second_sync_changes_nothing(
    store: Store, sync: Callable[..., SyncResult], url: str, proxy: FaultProxy, requests: int
) -> None:
    """Synced twice, the catalog is the same; synced again with a short overlap, so that
    nothing of the estate is recent enough to be read again, it costs at most ``requests``."""
    first_sync = sync(store, url)
    assert first_sync.status is SyncStatus.OK, first_sync.error
    before = snapshot(store)
    again = sync(store, url)
    assert again.status is SyncStatus.OK, again.error
    assert snapshot(store) == before
    first = proxy.count()
    result = sync(store, url, overlap="1s")
    assert result.status is SyncStatus.OK, result.error
    skip = (*BOOKKEEPING, "source")  # the source's settings now say overlap = "1s"
    assert snapshot(store, skip=skip) == {k: v for k, v in before.items() if k != "source"}
    assert proxy.count() - first <= requests, proxy.requests[first:]
