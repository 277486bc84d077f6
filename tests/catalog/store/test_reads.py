from __future__ import annotations

from datetime import timedelta

import pytest

from catalog.enums import RunStatus, TriggerKind
from catalog.errors import InvalidArgument
from catalog.filters import AssetFilter, PipelineFilter, RunFilter
from catalog.pagination import PageRequest
from catalog.records import Batch, PipelineRecord, RunRecord, TaskRunRecord
from catalog.store import reads
from catalog.store import tables as t
from catalog.store.store import Store
from tests.catalog.store.estate import ORDERS, REVENUE, T0, estate_batch


@pytest.fixture
def seeded(store: Store) -> Store:
    store.write_batch(store.ensure_source("airflow-prod", "airflow"), estate_batch())
    other = store.ensure_source("prefect", "prefect")
    runs = tuple(
        RunRecord(
            "flow",
            f"f{i}",
            RunStatus.FAILED if i % 3 == 0 else RunStatus.SUCCESS,
            started_at=T0 + timedelta(hours=i // 2),
            owners=("carol",) if i == 4 else (),  # a run that names an owner of its own
        )
        for i in range(12)
    )
    store.write_batch(
        other,
        Batch(
            cursor={},
            pipelines=(PipelineRecord("flow", "flow", owners=("bob",), tags=("python",)),),
            runs=runs,
        ),
    )
    return store


def all_pages(store: Store, f: RunFilter, size: int) -> list[str]:
    seen: list[str] = []
    after = None
    with store.session() as s:
        while True:
            page = reads.read_runs(s, f, PageRequest(first=size, after=after))
            seen += [r.external_id for r in page.items]
            if not page.has_next:
                return seen
            after = page.end_cursor


def test_keyset_pages_cover_every_run_once_despite_ties(seeded: Store) -> None:
    whole = all_pages(seeded, RunFilter(), 500)
    assert len(whole) == 14
    for size in (1, 3, 5):
        assert all_pages(seeded, RunFilter(), size) == whole


def test_runs_are_newest_first(seeded: Store) -> None:
    with seeded.session() as s:
        runs = reads.read_runs(s, RunFilter(), PageRequest(first=50)).items
    times = [r.happened_at for r in runs]
    assert times == sorted(times, reverse=True)


@pytest.mark.parametrize(
    ("f", "expected"),
    [
        (RunFilter(statuses=(RunStatus.FAILED,), sources=("airflow-prod",)), {"scheduled__1"}),
        (RunFilter(owner="ann@example.com"), {"scheduled__1", "manual__2"}),
        (RunFilter(tag="retry-me"), {"scheduled__1"}),  # the run's own tag
        (RunFilter(tag="tier=1"), {"scheduled__1", "manual__2"}),  # its pipeline's tag
        (RunFilter(triggers=(TriggerKind.MANUAL,)), {"manual__2"}),
        (RunFilter(sources=("prefect",), since=T0 + timedelta(hours=5)), {"f10", "f11"}),
        (RunFilter(sources=("prefect",), until=T0 + timedelta(hours=1)), {"f0", "f1"}),
        (RunFilter(owner="nobody"), set()),
        (RunFilter(owner="carol"), {"f4"}),  # the run's own owner
        (RunFilter(owner="bob", statuses=(RunStatus.FAILED,)), {"f0", "f3", "f6", "f9"}),
    ],
)
def test_run_filters(seeded: Store, f: RunFilter, expected: set[str]) -> None:
    with seeded.session() as s:
        page = reads.read_runs(s, f, PageRequest(first=100))
        assert {r.external_id for r in page.items} == expected
        assert reads.count_runs(s, f) == len(expected)


def test_pipeline_and_asset_filters(seeded: Store) -> None:
    with seeded.session() as s:
        assert [
            p.name
            for p in reads.read_pipelines(s, PipelineFilter(search="nightly"), PageRequest()).items
        ] == ["Nightly ETL"]
        assert reads.count_pipelines(s, PipelineFilter(sources=("prefect",))) == 1
        assert [
            a.uri
            for a in reads.read_assets(s, AssetFilter(uri_prefix="s3://"), PageRequest()).items
        ] == [ORDERS]
        assert [
            a.uri for a in reads.read_assets(s, AssetFilter(owner="data-eng"), PageRequest()).items
        ] == [ORDERS]
        assert reads.read_asset_by_uri(s, REVENUE) is not None


def test_stale_assets_and_produced_between(seeded: Store) -> None:
    produced = T0 + timedelta(days=1, minutes=2)
    with seeded.session() as s:
        assert reads.read_stale_assets(s, produced + timedelta(hours=23), PageRequest()).items == []
        stale = reads.read_stale_assets(s, produced + timedelta(days=2), PageRequest()).items
        assert [a.uri for a in stale] == [ORDERS]
        events = reads.read_produced_between(
            s, produced, produced + timedelta(seconds=1), PageRequest()
        ).items
        assert [e.row_count for e in events] == [1200]
        assert reads.count_produced_between(s, T0, produced) == 0  # the end is exclusive


def test_batched_reads_keep_the_callers_order(seeded: Store) -> None:
    with seeded.session() as s:
        runs = reads.read_by_ids(s, t.Run, [3, 1, 999, 1])
        assert [r.id if r else None for r in runs] == [3, 1, None, 1]
        labels = reads.read_labels(s, t.Owner, "pipeline", [1, 3, 42])
        assert labels == [["ann@example.com", "data-eng"], ["bob"], []]
        task_runs = reads.read_children(s, t.TaskRun, "run_id", [2, 1])
        assert [len(x) for x in task_runs] == [2, 3]


def test_a_foreign_cursor_is_refused_by_name(seeded: Store) -> None:
    with seeded.session() as s, pytest.raises(InvalidArgument, match="'after'"):
        reads.read_runs(s, RunFilter(), PageRequest(after="bm90IGEgY3Vyc29y"))
    with pytest.raises(InvalidArgument, match="'first'"):
        PageRequest(first=10_000)


def test_children_without_a_time_sort_last_on_every_database(store: Store) -> None:
    source = store.ensure_source("s", "synthetic")
    store.write_batch(
        source,
        Batch(
            cursor={},
            runs=(RunRecord("p", "r", RunStatus.RUNNING, started_at=T0),),
            task_runs=(
                TaskRunRecord("r", "never-started", RunStatus.QUEUED),
                TaskRunRecord("r", "started", RunStatus.RUNNING, started_at=T0),
            ),
        ),
    )
    with store.session() as s:
        (run,) = reads.read_runs(s, RunFilter(), PageRequest()).items
        assert run.id is not None
        (children,) = reads.read_children(s, t.TaskRun, "run_id", [run.id], order=("started_at",))
    assert [c.started_at for c in children] == [T0, None]
