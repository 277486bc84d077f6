"""The first sync of an estate with a long history of failures pages nobody: rules fire for
what happens after they exist, or inside their look-back, one incident per pipeline."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from catalog.alerts.service import AlertService
from catalog.config import parse_settings
from catalog.store import tables as t
from catalog.store.store import Store, utcnow
from catalog.sync import sync_sources

RULES = [
    {"name": "failures", "when": "run_failed", "notify": ["ops"]},
    {"name": "stale", "when": "asset_stale", "notify": ["ops"]},
    {"name": "checks", "when": "check_failed", "notify": ["ops"]},
    {"name": "slower", "when": "task_slower", "notify": ["ops"]},
    {"name": "syncs", "when": "sync_failing", "notify": ["ops"]},
]


def settings(rules: list[dict[str, Any]], failure_rate: float = 0.2) -> Any:
    return parse_settings(
        {
            "sources": {
                "estate": {
                    "kind": "synthetic",
                    "pipelines": 10,
                    "runs_per_pipeline": 100,
                    "failure_rate": failure_rate,
                    "batch_size": 100,
                    # A hundred days of history that ended about a day ago.
                    "start": (utcnow() - timedelta(days=101)).isoformat(),
                }
            },
            "alerts": {
                "destinations": [{"name": "ops", "kind": "webhook", "url": "http://127.0.0.1:9/"}],
                "rules": rules,
            },
        }
    )


def count(store: Store, model: type[t.SQLModel], *where: Any) -> int:
    with store.session() as s:
        return int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def pipelines_whose_latest_run_failed(store: Store) -> set[int]:
    latest: dict[int, tuple[Any, str]] = {}
    with store.session() as s:
        for run in s.scalars(select(t.Run)):
            if run.status in ("success", "failed"):
                have = latest.get(run.pipeline_id)
                if have is None or (run.happened_at, run.id) > have[0]:
                    latest[run.pipeline_id] = ((run.happened_at, run.id), run.status)
    return {p for p, (_, status) in latest.items() if status == "failed"}


def test_first_sync_of_a_thousand_runs_with_failures_pages_nobody(store: Store) -> None:
    config = settings(RULES)
    service = AlertService(store, config.alerts)
    service.evaluate()  # the rules exist from now on
    (result,) = sync_sources(store, config, observer=service.observer())
    assert result.ok
    failed = count(store, t.Run, t.Run.status == "failed")  # type: ignore[arg-type]
    assert count(store, t.Run) == 1000
    assert failed > 100
    assert count(store, t.CheckResult, t.CheckResult.passed.is_(False)) > 0  # type: ignore[attr-defined]
    evaluation = service.evaluate()
    assert evaluation is not None
    assert evaluation.opened == 0
    assert count(store, t.Alert) == 0
    assert count(store, t.AlertOutbox) == 0


def test_a_look_back_fires_one_incident_per_pipeline_not_one_per_failure(store: Store) -> None:
    config = settings([{**RULES[0], "lookback": "365d"}], failure_rate=0.5)
    service = AlertService(store, config.alerts)
    service.evaluate()
    sync_sources(store, config)
    evaluation = service.evaluate()
    assert evaluation is not None
    failing_last = len(pipelines_whose_latest_run_failed(store))
    assert 0 < failing_last <= 10
    assert evaluation.fired == failing_last
    assert count(store, t.AlertOutbox) == failing_last
    evaluation = service.evaluate()  # again: nothing new
    assert evaluation is not None
    assert evaluation.notifications == 0
