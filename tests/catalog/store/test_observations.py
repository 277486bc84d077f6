"""The store's out-of-order rule: an older observation never undoes a newer one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from catalog.enums import RunStatus
from catalog.records import Batch, RunRecord, TaskRunRecord
from catalog.service import Catalog
from catalog.store.store import Store

T0 = datetime(2024, 5, 1, 10, tzinfo=UTC)
T1 = T0 + timedelta(seconds=30)


def _run(status: RunStatus, at: datetime | None, **kw: object) -> RunRecord:
    return RunRecord("p", "r1", status, status_at=at, **kw)  # type: ignore[arg-type]


def test_late_start_does_not_undo_completion(store: Store) -> None:
    source = store.ensure_source("ol", "openlineage")
    done = _run(RunStatus.SUCCESS, T1, ended_at=T1, metadata={"a": {"x": 1}})
    start = _run(RunStatus.RUNNING, T0, started_at=T0, metadata={"a": {"y": 2}, "b": 3})
    store.write_batch(source, Batch({}, runs=(done,)))
    store.write_batch(source, Batch({}, runs=(start,)))
    run = Catalog(store).run_by_external_id("ol", "r1")
    assert run is not None
    assert (run.status, run.started_at, run.ended_at, run.status_at) == ("success", T0, T1, T1)
    assert run.duration_s == 30.0
    assert run.happened_at == T0
    assert run.meta == {"a": {"x": 1, "y": 2}, "b": 3}


def test_same_order_in_one_batch_and_task_runs(store: Store) -> None:
    source = store.ensure_source("ol", "openlineage")
    tr_done = TaskRunRecord("r1", "t", RunStatus.FAILED, ended_at=T1, error="boom", status_at=T1)
    tr_start = TaskRunRecord("r1", "t", RunStatus.RUNNING, started_at=T0, status_at=T0)
    store.write_batch(
        source,
        Batch({}, runs=(RunRecord("p", "r1", RunStatus.UNKNOWN),), task_runs=(tr_done, tr_start)),
    )
    (tr,) = Catalog(store).task_runs_of_runs([1])[0]
    assert (tr.status, tr.error, tr.started_at, tr.ended_at, tr.duration_s) == (
        "failed", "boom", T0, T1, 30.0,
    )  # fmt: skip


def test_without_observation_times_last_write_wins(store: Store) -> None:
    source = store.ensure_source("s", "synthetic")
    store.write_batch(source, Batch({}, runs=(_run(RunStatus.SUCCESS, None, ended_at=T1),)))
    store.write_batch(source, Batch({}, runs=(_run(RunStatus.RUNNING, None),)))
    run = Catalog(store).run_by_external_id("s", "r1")
    assert run is not None
    assert run.status == "running"
