from __future__ import annotations

import math
from datetime import datetime, timedelta

import pytest

from catalog.errors import InvalidArgument
from catalog.service import Catalog
from catalog.store import tables as t
from catalog.store.store import Store
from catalog.trends import Trend, slower_tasks
from tests.catalog.trend_estate import NOW, night, slowing_batch


def ranked(task: int, seconds: list[float]) -> list[tuple[int, int, float]]:
    """Latest first, as the store ranks them."""
    return [(task, rank, s) for rank, s in enumerate(seconds, 1)]


def test_recent_median_against_baseline_median() -> None:
    (trend,) = slower_tasks(ranked(7, [30, 20, 20, 10, 10, 10]), 3, 3, 1.2)
    assert trend == Trend(7, 3, 20, 3, 10)
    assert trend.ratio == 2.0


def test_a_stuck_attempt_is_not_a_trend() -> None:
    assert slower_tasks(ranked(1, [500, 10, 10, 10, 10, 10]), 3, 3, 1.2) == []


def test_steady_and_faster_tasks_are_left_out() -> None:
    durations = ranked(1, [10, 10, 10, 10]) + ranked(2, [5, 5, 10, 10])
    assert slower_tasks(durations, 2, 2, 1.01) == []
    (faster,) = slower_tasks(durations, 2, 2, 0.1)[1:]
    assert (faster.task_id, faster.ratio) == (2, 0.5)


def test_a_task_needs_full_recent_runs_and_a_baseline() -> None:
    assert slower_tasks(ranked(1, [20, 20]), 3, 3, 1.0) == []  # not enough recent
    assert slower_tasks(ranked(1, [20, 20, 20, 10, 10]), 3, 20, 1.0) == []  # 2 before: too few
    (trend,) = slower_tasks(ranked(1, [20, 20, 20, 10, 10, 10]), 3, 20, 1.0)
    assert trend.baseline_runs == 3
    (short,) = slower_tasks(ranked(1, [20, 10]), 1, 1, 1.0)  # asked for a baseline of one
    assert short.ratio == 2.0


def test_fastest_growing_first_and_instant_baselines() -> None:
    durations = ranked(1, [15, 10, 10, 10]) + ranked(2, [30, 10, 10, 10]) + ranked(3, [5, 0, 0, 0])
    found = slower_tasks(durations, 1, 3, 1.2)
    assert [tr.task_id for tr in found] == [3, 2, 1]
    assert math.isinf(found[0].ratio)
    assert Trend(4, 1, 0, 3, 0).ratio == 1.0


# -- through the store, on SQLite and PostgreSQL ---------------------------------------------


@pytest.fixture
def catalog(store: Store) -> Catalog:
    store.write_batch(store.ensure_source("airflow-prod", "airflow"), slowing_batch())
    return Catalog(store, clock=lambda: NOW)


def task_names(catalog: Catalog, found: list[Trend]) -> list[str]:
    return [
        task.external_id for task in catalog.by_ids(t.Task, [tr.task_id for tr in found]) if task
    ]


def test_the_slowing_task_is_found_with_its_medians(catalog: Catalog) -> None:
    (load,) = catalog.slower_tasks(recent=3, baseline=5)
    assert task_names(catalog, [load]) == ["load"]
    # Nights 7 to 9 against nights 2 to 6; night 8's failed 900 s attempt counts for nothing.
    assert (load.recent_runs, load.recent_median_s) == (3, 170)
    assert (load.baseline_runs, load.baseline_median_s) == (5, 100)
    assert load.ratio == pytest.approx(1.7)


def test_defaults_compare_the_last_five_with_up_to_twenty_before(catalog: Catalog) -> None:
    (load,) = catalog.slower_tasks()
    # The run 200 days ago is past the 90-day horizon: 5 baseline attempts, not 6.
    assert (load.recent_runs, load.baseline_runs) == (5, 5)
    assert (load.recent_median_s, load.baseline_median_s) == (160, 100)
    everything = catalog.slower_tasks(since=night(-365))
    assert everything[0].baseline_runs == 6


def test_ratio_threshold_and_page_size(catalog: Catalog) -> None:
    assert catalog.slower_tasks(min_ratio=1.7) == []
    both = catalog.slower_tasks(recent=3, baseline=5, min_ratio=0.5)
    assert task_names(catalog, both) == ["load", "extract"]
    assert both[1].ratio == 1.0
    assert len(catalog.slower_tasks(recent=3, baseline=5, min_ratio=0.5, first=1)) == 1
    assert catalog.slower_tasks(first=0) == []


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        ({"recent": 0}, "recent"),
        ({"baseline": 1001}, "baseline"),
        ({"min_ratio": 0.0}, "minRatio"),
        ({"first": 501}, "first"),
        ({"since": datetime(2026, 1, 1)}, "since"),
        ({"since": NOW - timedelta(days=1), "first": -1}, "first"),
    ],
)
def test_bad_arguments_are_named(
    catalog: Catalog, arguments: dict[str, object], named: str
) -> None:
    with pytest.raises(InvalidArgument, match=f"'{named}'"):
        catalog.slower_tasks(**arguments)  # type: ignore[arg-type]
