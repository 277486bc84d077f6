"""The benchmarks run end to end (tiny scale, no timing asserted: figures belong in the README)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.__main__ import main


@pytest.mark.slow
def test_benchmarks_run_and_report_every_ratio(tmp_path: Path) -> None:
    output = tmp_path / "results.json"
    main(["--scale", "0.0001", "--output", str(output)])
    results = json.loads(output.read_text())
    assert results["ingest"]["rows"] > 1000
    assert results["failed_runs"]["returned"] >= 1
    for section, key in (
        ("ingest", "ratio"),
        ("failed_runs", "executed_ratio"),
        ("failed_runs", "served_ratio"),
        ("lineage", "ratio"),
    ):
        assert results[section][key] > 0
