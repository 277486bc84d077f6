from __future__ import annotations

from collections import Counter
from typing import Any

import networkx as nx
import pytest

from adapters.synthetic import SyntheticAdapter, SyntheticConfig
from catalog.enums import AssetEventKind, NodeKind, RunStatus
from catalog.errors import AdapterError
from catalog.records import Batch, Cursor, RunRecord

SMALL: dict[str, Any] = {
    "pipelines": 6,
    "tasks_per_pipeline": 5,
    "runs_per_pipeline": 12,
    "assets": 15,
    "failure_rate": 0.3,
    "seed": 42,
    "batch_size": 10,
}


def fetch(cursor: Cursor | None = None, **changes: Any) -> list[Batch]:
    adapter = SyntheticAdapter("synth", SyntheticConfig(**(SMALL | changes)))
    return list(adapter.fetch(cursor))


def runs(batches: list[Batch]) -> list[RunRecord]:
    return [r for b in batches for r in b.runs]


def test_the_same_config_gives_the_same_records() -> None:
    assert fetch() == fetch()
    assert runs(fetch()) != runs(fetch(seed=43))


def test_batches_and_cursor() -> None:
    batches = fetch()
    total = SMALL["pipelines"] * SMALL["runs_per_pipeline"]
    assert total == 72
    assert [b.cursor["runs_emitted"] for b in batches] == [10, 20, 30, 40, 50, 60, 70, 72]
    assert [len(b.runs) for b in batches] == [10] * 7 + [2]
    assert len({r.external_id for r in runs(batches)}) == total
    first, rest = batches[0], batches[1:]
    assert len(first.pipelines) == SMALL["pipelines"]
    assert len(first.tasks) == SMALL["pipelines"] * SMALL["tasks_per_pipeline"]
    assert len(first.assets) == SMALL["assets"]
    assert first.edges
    assert first.notices == ()
    assert all(not (b.pipelines or b.tasks or b.assets or b.edges) for b in rest)
    assert all(b.notices is None for b in rest)


def test_a_sync_from_the_end_sends_only_definitions() -> None:
    end = fetch()[-1].cursor
    again = fetch(end)
    assert len(again) == 1
    assert again[0].cursor == end
    assert again[0].runs == ()
    assert len(again[0].pipelines) == SMALL["pipelines"]


def test_more_runs_per_pipeline_emits_only_the_new_runs() -> None:
    before = fetch()
    after = fetch(before[-1].cursor, runs_per_pipeline=15)
    new = runs(after)
    assert len(new) == SMALL["pipelines"] * 3
    assert {int(r.external_id.rsplit(":", 1)[1]) for r in new} == {12, 13, 14}
    # The new runs are exactly those a fresh sync of the bigger estate would hold.
    assert runs(before) + new == runs(fetch(runs_per_pipeline=15))
    assert after[-1].cursor == {"runs_emitted": SMALL["pipelines"] * 15}


def test_a_run_is_the_same_whatever_batch_it_lands_in() -> None:
    def everything(batches: list[Batch]) -> tuple[list[Any], ...]:
        return (
            [r for b in batches for r in b.runs],
            [t for b in batches for t in b.task_runs],
            [e for b in batches for e in b.asset_events],
            [c for b in batches for c in b.check_results],
        )

    assert everything(fetch(batch_size=7)) == everything(fetch(batch_size=1000))


def test_the_estate_looks_real() -> None:
    batches = fetch(runs_per_pipeline=40)
    all_runs = runs(batches)
    task_runs = [t for b in batches for t in b.task_runs]
    events = [e for b in batches for e in b.asset_events]
    statuses = Counter(r.status for r in all_runs)
    assert statuses[RunStatus.SUCCESS] > statuses[RunStatus.FAILED] > 0
    assert all(r.error for r in all_runs if r.status is RunStatus.FAILED)
    assert all(r.ended_at and r.started_at and r.queued_at for r in all_runs)
    assert all(r.queued_at <= r.started_at <= r.ended_at for r in all_runs)  # type: ignore[operator]
    assert len({r.trigger for r in all_runs}) > 1

    by_run: dict[str, list[Any]] = {}
    for t in task_runs:
        by_run.setdefault(t.run_id, []).append(t)
    # A failed task stops what is downstream of it.
    failed = next(r for r in all_runs if r.status is RunStatus.FAILED)
    assert RunStatus.UPSTREAM_FAILED in {t.status for t in by_run[failed.external_id]} or (
        by_run[failed.external_id][-1].status is RunStatus.FAILED
    )
    assert any(t.status is RunStatus.UPSTREAM_FAILED for t in task_runs)
    # Retries: attempt 1 failed, attempt 2 of the same task succeeded.
    retried = [t for t in task_runs if t.attempt == 2]
    assert retried
    first_attempts = {(t.run_id, t.task_id): t for t in task_runs if t.attempt == 1}
    assert all(first_attempts[(t.run_id, t.task_id)].status is RunStatus.FAILED for t in retried)

    produced = [e for e in events if e.kind is AssetEventKind.PRODUCED]
    assert produced
    assert all(e.row_count and e.task_id and e.run_id for e in produced)
    assert any(e.kind is AssetEventKind.CONSUMED for e in events)
    assert len({e.key() for e in events}) == len(events)  # no two events share an id
    assert any(b.check_results for b in batches)

    definitions = batches[0]
    uris = [a.uri for a in definitions.assets]
    assert any(u.startswith("postgres://warehouse:5432/analytics.public.table_") for u in uris)
    assert any(u.startswith("s3://lake/raw/") for u in uris)
    assert any(a.freshness_max_age_s for a in definitions.assets)
    assert all(p.owners and p.schedule for p in definitions.pipelines)
    assert all(
        p.ui_url == f"https://synthetic.invalid/pipelines/{p.external_id}"
        for p in definitions.pipelines
    )


def test_lineage_is_one_graph_across_pipelines() -> None:
    definitions = fetch()[0]
    graph: nx.Graph[Any] = nx.Graph()
    for t in definitions.tasks:
        graph.add_node(("task", t.pipeline_id, t.external_id))
        for up in t.upstream:
            graph.add_edge(("task", t.pipeline_id, up), ("task", t.pipeline_id, t.external_id))
    for e in definitions.edges:
        ends = [
            ("asset", ref.ref) if ref.kind is NodeKind.ASSET else ("task", ref.ref, ref.task)
            for ref in (e.upstream, e.downstream)
        ]
        graph.add_edge(*ends)
    assert nx.is_connected(graph)
    cross = [
        e
        for e in definitions.edges
        if e.upstream.kind is NodeKind.ASSET
        and e.downstream.kind is NodeKind.TASK
        and e.downstream.task == "extract_0"
    ]
    assert len(cross) >= SMALL["pipelines"] - 1


@pytest.mark.parametrize("cursor", [{"page": 3}, {"runs_emitted": -1}, {"runs_emitted": "5"}])
def test_a_foreign_cursor_is_refused(cursor: Cursor) -> None:
    with pytest.raises(AdapterError, match=r"source 'synth': cursor .* is not a synthetic cursor"):
        fetch(cursor)
