from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from api.cli import main
from catalog.service import Catalog
from catalog.store.store import Store
from tests.corpus import SCENARIOS, events, state


def test_ingest_ndjson_and_json_files(
    tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEMPOX_DATABASE_URL", sqlite_url)
    monkeypatch.chdir(tmp_path)
    airflow = tmp_path / "airflow.ndjson"
    airflow.write_text("\n".join(json.dumps(e) for e in events("airflow")) + "\n")
    cll = tmp_path / "cll.json"
    cll.write_text(json.dumps(events("CLL")))
    result = CliRunner().invoke(main, ["ingest", "openlineage", str(airflow), str(cll)])
    assert result.exit_code == 0, result.output
    assert "loaded 41 events from 2 files" in result.output
    store = Store(sqlite_url)
    got = state(store)
    assert len(got["runs"]) == 4
    assert len(got["columns"]) == 26
    assert Catalog(store).count_sources() == 1
    store.close()


def test_ingest_names_the_bad_line(
    tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEMPOX_DATABASE_URL", sqlite_url)
    monkeypatch.chdir(tmp_path)
    bad = tmp_path / "bad.ndjson"
    bad.write_text(json.dumps(events("simple_run_event")[0]) + '\n{"eventTime": 1}\n')
    result = CliRunner().invoke(main, ["ingest", "openlineage", str(bad)])
    assert result.exit_code == 1
    assert "bad.ndjson: line 2: eventTime: expected a string" in result.output


def test_ingest_pretty_printed_files_as_producers_write_them(
    tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The corpus keeps one indented event per file, as producers' file transports do.
    monkeypatch.setenv("TEMPOX_DATABASE_URL", sqlite_url)
    monkeypatch.chdir(tmp_path)
    files = sorted((SCENARIOS / "airflow" / "events").glob("*.json"))
    assert files
    assert "\n" in files[0].read_text().strip()
    result = CliRunner().invoke(main, ["ingest", "openlineage", *map(str, files)])
    assert result.exit_code == 0, result.output
    assert f"loaded {len(files)} events from {len(files)} files" in result.output
    store = Store(sqlite_url)
    assert len(state(store)["runs"]) == 3
    store.close()


def test_a_file_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "latin1.ndjson"
    bad.write_bytes(b'{"eventType": "START", "job": {"name": "caf\xe9"}}\n')
    result = CliRunner().invoke(main, ["ingest", "openlineage", str(bad)])
    assert result.exit_code == 1
    assert result.stderr.strip() == f"error: {bad}: not UTF-8 text (byte 43)"


def test_ingest_again_applies_nothing_and_names_flagged_facets(
    tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEMPOX_DATABASE_URL", sqlite_url)
    monkeypatch.chdir(tmp_path)
    event = events("simple_run_event")[0]
    event["inputs"][0]["inputFacets"] = {"dataQualityMetrics": {"rowCount": 1}}  # incomplete
    file = tmp_path / "events.ndjson"
    file.write_text(json.dumps(event) + "\n")
    first = CliRunner().invoke(main, ["ingest", "openlineage", str(file)])
    assert first.exit_code == 0, first.output
    assert first.output.endswith("loaded 1 event from 1 file\n")
    assert (
        f"warning: {file}: inputs[0].inputFacets.dataQualityMetrics.columnMetrics: required "
        "field is missing" in first.output
    )
    again = CliRunner().invoke(main, ["ingest", "openlineage", str(file)])
    assert "loaded 1 event from 1 file (1 of them stored before: not applied again)" in again.output
