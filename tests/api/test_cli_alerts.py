"""``tempox sync`` evaluates the alert rules after syncing and delivers what they decided."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from api.cli import main
from catalog.store import tables as t
from catalog.store.store import Store, utcnow
from tests.catalog.alerts.receiver import receiver
from tests.catalog.alerts.test_history import pipelines_whose_latest_run_failed


def test_sync_then_alert(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    start = (utcnow() - timedelta(days=6)).isoformat()
    with receiver() as inbox:
        Path("tempox.toml").write_text(
            f"""
[database]
url = "sqlite:///{tmp_path / "t.db"}"

[sources.estate]
kind = "synthetic"
pipelines = 10
runs_per_pipeline = 5
failure_rate = 0.5
start = "{start}"

[[alerts.destinations]]
name = "ops"
kind = "webhook"
url = "{inbox.url}/hook"

[[alerts.rules]]
name = "any-failure"
when = "run_failed"
notify = ["ops"]
lookback = "30d"
"""
        )
        result = CliRunner().invoke(main, ["sync"])
        assert result.exit_code == 0, result.output
        again = CliRunner().invoke(main, ["sync"])  # nothing new: nobody told twice
        assert again.exit_code == 0, again.output
        requests = list(inbox.requests)
    store = Store(f"sqlite:///{tmp_path / 't.db'}")
    failing = len(pipelines_whose_latest_run_failed(store))
    with store.session() as s:
        # Each run evaluated, then handed the evaluator's turn over for the next one.
        (lease,) = s.scalars(select(t.AlertLease))
    store.close()
    assert lease.owner is None
    assert failing > 0
    assert len(requests) == failing
    assert f"alerts: {failing} fired, 0 resolved, {failing} notifications sent" in result.stderr
    assert "alerts:" not in again.stderr
