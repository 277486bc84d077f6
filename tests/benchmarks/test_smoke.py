"""The benchmarks run end to end (tiny scale, no timing asserted: figures belong in the README)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from benchmarks.__main__ import main


@pytest.mark.slow
def test_benchmarks_run_and_report_every_ratio(tmp_path: Path) -> None:
    output = tmp_path / "results.json"
    main(["--scale", "0.0001", "--no-http", "--output", str(output)])
    results = json.loads(output.read_text())
    assert results["ingest"]["rows"] > 1000
    assert results["failed_runs"]["returned"] >= 1
    for section, key in (
        ("ingest", "ratio"),
        ("failed_runs", "executed_ratio"),
        ("failed_runs", "served_ratio"),
        ("failed_runs", "compiled_ratio"),
        ("lineage", "ratio"),
    ):
        assert results[section][key] > 0


@pytest.mark.slow
def test_load_benchmark_runs_and_reports_its_shape(tmp_path: Path) -> None:
    from benchmarks.load import MIX, ensure_wrk
    from benchmarks.load import main as load

    try:
        ensure_wrk()
    except RuntimeError as exc:  # not root, no apt-get: the message names the command
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(str(exc))
        pytest.skip(str(exc))
    output = tmp_path / "load.json"
    load(
        [
            *("--seconds", "2", "--connections", "4", "--database", "sqlite"),
            *("--pipelines", "10", "--runs-per-pipeline", "5", "--output", str(output)),
        ]
    )
    (run,) = json.loads(output.read_text())["runs"]
    assert run["database"] == "sqlite"
    assert run["mix_percent"] == MIX
    assert set(run["kinds"]) == {*MIX, "total"}
    for kind in run["kinds"].values():
        assert {"responses", "per_s", "answered_per_s", "statuses", "graphql_errors"} <= set(kind)
        assert {"p50_ms", "p99_ms", "max_ms"} <= set(kind["answered_latency"])
    assert run["kinds"]["total"]["responses"] > 0
    assert set(run["socket_errors"]) == {"connect", "read", "write", "timeout"}
    assert {"p50_ms", "p99_ms", "statuses"} <= set(run["healthz"])
    assert run["server"]["peak_rss_mib"] > 0
    assert {"cache_hits", "cache_misses"} <= set(run["server"])


@pytest.mark.slow
def test_graphql_vs_plain_runs_and_reports_every_ratio(tmp_path: Path) -> None:
    from benchmarks.graphql_vs_plain import KINDS, report
    from benchmarks.graphql_vs_plain import main as graphql_vs_plain
    from benchmarks.load import ensure_wrk

    try:
        ensure_wrk()
    except RuntimeError as exc:  # not root, no apt-get: the message names the command
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(str(exc))
        pytest.skip(str(exc))
    output = tmp_path / "gvp.json"
    graphql_vs_plain(
        [
            *("--seconds", "1", "--rounds", "1", "--connections", "2", "--database", "sqlite"),
            *("--pipelines", "10", "--runs-per-pipeline", "5", "--output", str(output)),
        ]
    )
    (run,) = json.loads(output.read_text())["runs"]
    assert set(run["kinds"]) == set(KINDS)
    for kind in run["kinds"].values():
        # Both servers gave the same answers, and both answered under load.
        assert kind["answers"] in ("same", "same nodes")
        for side in ("tempox", "plain"):
            assert kind[side]["requests"] > 0
            assert kind[side]["non_2xx"] == 0
        assert kind["ratio"] > 0
    assert "`FailedRuns` uncached" in report([run])


@pytest.mark.slow
def test_rss_benchmark_reads_the_servers_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from benchmarks.rss import main as rss

    monkeypatch.setattr("benchmarks.estate_cache.CACHE", tmp_path / "estates")
    output = tmp_path / "rss.json"
    result = rss(["--scale", "0.0001", "--output", str(output)])
    assert json.loads(output.read_text()) == result
    assert result["runs"] > 0
    assert 0 < result["rss_mib_idle"] <= result["peak_rss_mib"]
    assert 0 < result["rss_mib_after"] <= result["peak_rss_mib_after_changes"]
    assert not result["estate_cached"]
    # The second run takes the estate the first one built.
    again = rss(["--scale", "0.0001", "--output", str(output)])
    assert again["estate_cached"]
    assert again["runs"] == result["runs"]
