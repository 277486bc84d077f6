from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from catalog.enums import FAILURE_STATUSES, NodeKind
from catalog.errors import InvalidArgument
from catalog.filters import Direction
from catalog.pagination import PageRequest
from catalog.service import Catalog
from catalog.store.store import Store
from tests.catalog.store.estate import ORDERS, REVENUE, T0, estate_batch

NOW = T0 + timedelta(days=3)


@pytest.fixture
def catalog(store: Store) -> Catalog:
    store.write_batch(store.ensure_source("airflow-prod", "airflow"), estate_batch())
    return Catalog(store, clock=lambda: NOW)


def test_failed_runs_default_to_the_last_week(catalog: Catalog) -> None:
    f = catalog.failed_runs_filter(None, None)
    assert (f.since, f.until) == (NOW - timedelta(days=7), NOW)
    assert set(f.statuses) == FAILURE_STATUSES
    assert [r.external_id for r in catalog.runs(f, PageRequest()).items] == ["scheduled__1"]
    later = catalog.failed_runs_filter(T0 + timedelta(hours=1), None)
    assert catalog.count_runs(later) == 0


def test_windows_are_checked_by_argument_name(catalog: Catalog) -> None:
    with pytest.raises(InvalidArgument, match="'since'"):
        catalog.failed_runs_filter(NOW, T0)
    with pytest.raises(InvalidArgument, match=r"'end'.*time zone"):
        catalog.produced_between(T0, datetime(2026, 1, 1), PageRequest())
    with pytest.raises(InvalidArgument, match="'depth'"):
        catalog.lineage(("asset", 1), Direction.DOWNSTREAM, 0)


def test_impact_of_a_failed_run_reaches_what_it_failed_to_produce(catalog: Catalog) -> None:
    failed = catalog.run_by_external_id("airflow-prod", "scheduled__1")
    assert failed is not None
    assert failed.id is not None
    impact = catalog.impact(failed.id)
    assert impact is not None
    orders, revenue = catalog.asset(ORDERS), catalog.asset(REVENUE)
    assert orders is not None
    assert revenue is not None
    assert impact.outputs == [(orders.id, False)]  # declared by its `load` task, not produced
    reached = {(n.kind, n.id): n.depth for n in impact.downstream.nodes}
    assert reached[(NodeKind.ASSET, revenue.id)] == 2  # through the `revenue` pipeline
    assert catalog.impact(10_000) is None


def test_impact_of_a_successful_run_marks_its_outputs_produced(catalog: Catalog) -> None:
    ok = catalog.run_by_external_id("airflow-prod", "manual__2")
    assert ok is not None
    assert ok.id is not None
    impact = catalog.impact(ok.id)
    assert impact is not None
    assert [produced for _, produced in impact.outputs] == [True]


def test_stale_assets_use_the_clock(catalog: Catalog) -> None:
    assert [a.uri for a in catalog.stale_assets(PageRequest()).items] == [ORDERS]
    early = datetime(2026, 11, 17, 7, tzinfo=UTC)
    assert catalog.stale_assets(PageRequest(), at=early).items == []
    assert catalog.count_stale_assets() == 1
