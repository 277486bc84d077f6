from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from adapters.synthetic import SyntheticAdapter
from api.cli import main
from catalog import adapter as adapters
from catalog.adapter import Adapter, AdapterConfig
from catalog.config import CONFIG_ENV, DATABASE_URL_ENV
from catalog.errors import AdapterError
from catalog.records import Batch, Cursor
from catalog.store.migrate import head_revision
from tests.databases import PG_ADMIN_URL, require_postgres

ROOT = Path(__file__).resolve().parents[2]
COMMANDS = ("serve", "sync", "db", "sources", "export-schema")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(CONFIG_ENV, raising=False)
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
    monkeypatch.chdir(tmp_path)


def tempox(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def write_config(sources: str = "") -> Path:
    path = Path("tempox.toml")
    path.write_text(f'[database]\nurl = "sqlite:///{Path.cwd() / "t.db"}"\n\n{sources}')
    return path


SYNTHETIC = """
[sources.demo]
kind = "synthetic"
pipelines = 3
runs_per_pipeline = 4
assets = 6
"""


class DownConfig(AdapterConfig):
    pass


class DownAdapter(Adapter[DownConfig]):
    kind = "down"
    config_class = DownConfig

    def fetch(self, cursor: Cursor | None) -> Iterator[Batch]:
        raise AdapterError(f"source {self.name!r}: http://down.invalid refused the connection")


def test_help_lists_every_command_with_examples() -> None:
    result = tempox("--help")
    assert result.exit_code == 0
    for command in COMMANDS:
        assert f"\n  {command} " in result.output
    assert "Examples:" in result.output
    assert "tempox sync airflow-prod" in result.output


@pytest.mark.parametrize("command", [*COMMANDS, "db upgrade"])
def test_every_command_has_help(command: str) -> None:
    result = tempox(*command.split(), "--help")
    assert result.exit_code == 0, result.output
    assert "Usage: " in result.output


def test_sync_then_sources() -> None:
    write_config(SYNTHETIC)
    synced = tempox("sync")
    assert synced.exit_code == 0, synced.output + synced.stderr
    assert "demo: ok" in synced.output
    listed = tempox("sources")
    assert listed.exit_code == 0, listed.stderr
    row = next(line for line in listed.output.splitlines() if "demo" in line)
    assert row.split()[1:6:2] == ["demo", "synthetic", "ok"]
    assert "UTC" in row


class NoticeConfig(AdapterConfig):
    pass


class NoticeAdapter(Adapter[NoticeConfig]):
    kind = "notices"
    config_class = NoticeConfig

    def fetch(self, cursor: Cursor | None) -> Iterator[Batch]:
        yield Batch(cursor={}, notices=("import error in dags/broken.py: SyntaxError: [x]",))


def test_sources_shows_what_a_source_reports_about_itself(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(adapters, "discover_adapters", lambda: {"notices": NoticeAdapter})
    write_config('[sources.prod]\nkind = "notices"\n')
    assert tempox("sync").exit_code == 0
    listed = tempox("sources")
    assert "prod: import error in dags/broken.py: SyntaxError: [x]" in listed.output


def test_sources_lists_configured_sources_never_synced() -> None:
    write_config(SYNTHETIC)
    listed = tempox("sources")
    assert listed.exit_code == 0, listed.stderr
    row = next(line for line in listed.output.splitlines() if "demo" in line)
    assert "never" in row


def test_sync_exits_1_when_a_source_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    found = {"synthetic": SyntheticAdapter, "down": DownAdapter}
    monkeypatch.setattr(adapters, "discover_adapters", lambda: dict(found))
    write_config(SYNTHETIC + '\n[sources.prod]\nkind = "down"\n')
    result = tempox("sync")
    assert result.exit_code == 1
    assert "demo: ok" in result.output
    assert "prod: failed" in result.output
    assert "refused the connection" in result.output
    listed = tempox("sources")
    assert "refused the connection" in listed.output


def test_config_errors_print_one_line_without_a_traceback() -> None:
    write_config('[sources.prod]\nkind = "synthetic"\ninterval = "abc"\n')
    result = tempox("sync")
    assert result.exit_code == 1
    assert result.stderr == (
        "error: tempox.toml: sources.prod.interval: invalid duration 'abc' (use e.g. 30s, 5m, 1h)\n"
    )
    assert "Traceback" not in result.output


def test_debug_shows_the_exception() -> None:
    write_config('[sources.prod]\nkind = "synthetic"\ninterval = "abc"\n')
    result = tempox("--debug", "sync")
    assert result.exit_code == 1
    assert result.stderr.startswith("Traceback (most recent call last):\n")
    assert "catalog.errors.ConfigError: tempox.toml: sources.prod.interval" in result.stderr


def test_an_unknown_source_is_named() -> None:
    write_config(SYNTHETIC)
    result = tempox("sync", "dmeo")
    assert result.exit_code == 1
    assert result.stderr == ("error: no source named 'dmeo' in tempox.toml (configured: demo)\n")


def test_a_missing_config_file_is_named() -> None:
    result = tempox("--config", "nowhere.toml", "sources")
    assert result.exit_code == 1
    assert result.stderr == "error: nowhere.toml: config file not found\n"


def test_an_unreachable_database_is_one_line_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(DATABASE_URL_ENV, "postgresql+psycopg://nobody:s3cret@127.0.0.1:1/none")
    result = tempox("sources")
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "error: database.url (or $TEMPOX_DATABASE_URL): cannot open "
        "postgresql+psycopg://127.0.0.1:1/none: "  # user-info is never shown
    )
    assert "refused" in result.stderr.lower()
    assert "s3cret" not in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_a_missing_postgres_database_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    require_postgres()
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/no_such_database_here"
    monkeypatch.setenv(DATABASE_URL_ENV, url)
    result = tempox("sources")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: database.url (or $TEMPOX_DATABASE_URL): cannot open")
    assert result.stderr.rstrip().endswith('database "no_such_database_here" does not exist')


def test_sources_warns_of_a_secret_variable_that_is_not_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TEMPOX_TEST_UNSET_PASSWORD", raising=False)
    write_config(
        '[sources.af]\nkind = "airflow"\nbase_url = "http://127.0.0.1:1"\n'
        'username = "admin"\npassword_env = "TEMPOX_TEST_UNSET_PASSWORD"\n'
    )
    listed = tempox("sources")
    assert listed.exit_code == 0
    assert (
        "warning: af: sources.af.password_env names TEMPOX_TEST_UNSET_PASSWORD, which is not set"
        in listed.stderr
    )
    monkeypatch.setenv("TEMPOX_TEST_UNSET_PASSWORD", "x")
    assert "warning" not in tempox("sources").stderr


def test_db_upgrade_prints_the_revision() -> None:
    write_config()
    first = tempox("db", "upgrade")
    assert first.exit_code == 0, first.stderr
    head = head_revision()  # the last migration's, whichever was merged last
    assert f"revision {head} (upgraded from empty)" in first.output
    again = tempox("db", "upgrade")
    assert f"revision {head} (already up to date)" in again.output


def test_a_database_behind_the_code_is_refused_without_auto_upgrade() -> None:
    Path("tempox.toml").write_text(
        f'[database]\nurl = "sqlite:///{Path.cwd() / "t.db"}"\nauto_upgrade = false\n'
    )
    result = tempox("sources")
    assert result.exit_code == 1
    assert "run `tempox db upgrade`" in result.stderr


def test_export_schema_writes_and_checks(tmp_path: Path) -> None:
    pytest.importorskip("api.schema")
    from strawberry.printer import print_schema

    from api.schema import schema

    out = tmp_path / "out" / "schema.graphql"
    missing = tempox("export-schema", "--output", str(out), "--check")
    assert missing.exit_code == 1
    assert "is missing" in missing.stderr

    written = tempox("export-schema", "--output", str(out))
    assert written.exit_code == 0, written.stderr
    assert out.read_text() == print_schema(schema) + "\n"
    assert tempox("export-schema", "--output", str(out), "--check").exit_code == 0

    out.write_text(out.read_text() + "type Drift { x: Int }\n")
    drifted = tempox("export-schema", "--output", str(out), "--check")
    assert drifted.exit_code == 1
    assert drifted.stderr == (
        f"error: {out} is out of date with the code: run `tempox export-schema --output {out}`\n"
    )


def test_the_checked_in_schema_is_current() -> None:
    pytest.importorskip("api.schema")
    result = tempox("export-schema", "--output", str(ROOT / "graphql/schema.graphql"), "--check")
    assert result.exit_code == 0, result.stderr


def test_python_dash_m_api() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "api", "--help"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Usage: tempox ")
