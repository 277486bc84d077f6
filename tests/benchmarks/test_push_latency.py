"""The push latency benchmark runs end to end at a tiny size (one Dagster run; no timing
asserted: figures belong in the README)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.push_latency import main, report

pytestmark = [pytest.mark.peers, pytest.mark.slow, pytest.mark.xdist_group("peers")]


def test_push_latency_runs_and_reports_both_ways(tmp_path: Path) -> None:
    output = tmp_path / "push.json"
    main(["--runs", "1", "--interval", "5s", "--tools", "dagster", "--output", str(output)])
    results = json.loads(output.read_text())
    [dagster] = results["tools"]
    assert dagster["tool"] == "dagster"
    for way in ("push", "poll", "after_notification"):
        assert dagster[way]["n"] == 1, way
    [sample] = dagster["samples"]
    assert sample["pushed_at"] >= sample["finished_at"] - 1  # the push follows the run's end
    assert "| dagster |" in report(results)
