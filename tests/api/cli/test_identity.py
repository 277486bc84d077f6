"""``tempox identity apply [--dry-run]``, and the re-resolving every start does by itself."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from api.app import create_app
from api.cli import main
from catalog.config import CONFIG_ENV, DATABASE_URL_ENV, load_settings
from catalog.identity import fingerprint
from catalog.store import tables as t
from catalog.store.identity_apply import read_fingerprint
from catalog.store.store import Store
from tests.catalog.store.identity_estate import AFTER, OLD_ORDERS, ORDERS, write_estate
from tests.catalog.store.snapshot import snapshot

RULES = """
[[identity.rules]]
name = "lake"
prefix = "s3://old-lake/"
replace = "s3://lake/"

[[identity.rules]]
name = "legacy"
pattern = 's3://legacy/(\\w+)'
uri = "s3://finance/{0}"
"""


@pytest.fixture
def config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.delenv(CONFIG_ENV, raising=False)
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "tempox.toml"
    url = f"sqlite:///{tmp_path / 't.db'}"
    path.write_text(f'[database]\nurl = "{url}"\n{RULES}', encoding="utf-8")
    store = Store(url)  # written before the rules: Airflow's and Dagster's orders are two
    write_estate(store)
    store.close()
    return path


def tempox(config: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(config), *args])


def stored(config: Path) -> Store:
    return Store(load_settings(config).database.url, migrate=False)


def test_the_rules_compile_to_the_ones_the_tests_check(config: Path) -> None:
    assert fingerprint(load_settings(config).identity.compile()) == fingerprint(AFTER)


def test_a_dry_run_prints_what_would_merge_and_changes_nothing(config: Path) -> None:
    store = stored(config)
    before = snapshot(store, skip=())
    shown = tempox(config, "identity", "apply", "--dry-run")
    assert shown.exit_code == 0, shown.output
    assert shown.stdout.splitlines() == [
        f"merge  {ORDERS} ← {ORDERS}, {OLD_ORDERS}",
        "rename s3://legacy/fx → s3://finance/fx",
        "dry run, nothing written: would change 2 assets merged into 1; 1 renamed; 0 split; "
        "4 events moved (0 duplicates dropped); 2 check results moved (0 duplicates dropped); "
        "2 lineage edges; 1 column lineage rows; 0 hand links; 2 aliases written, 0 removed",
    ]
    assert snapshot(store, skip=()) == before
    store.close()


def test_apply_changes_the_catalog_once(config: Path) -> None:
    done = tempox(config, "identity", "apply")
    assert done.exit_code == 0, done.output
    assert done.stdout.splitlines()[-1].startswith("applied: 2 assets merged into 1;")
    store = stored(config)
    with store.session() as s:
        assert set(s.scalars(select(t.Asset.uri))) == {
            ORDERS,
            "s3://lake/report",
            "s3://finance/fx",
        }
    with store.engine.connect() as conn:
        assert read_fingerprint(conn) == fingerprint(AFTER)
    store.close()
    again = tempox(config, "identity", "apply")
    assert again.stdout == "nothing to change: the catalog agrees with the [identity] rules\n"


def test_any_command_that_opens_the_catalog_applies_changed_rules_and_says_so(
    config: Path,
) -> None:
    listed = tempox(config, "sources")  # opens the store as `tempox sync` does
    assert listed.exit_code == 0, listed.output
    (line,) = [x for x in listed.stderr.splitlines() if "tempox.identity" in x]
    assert line.startswith("WARNING tempox.identity: identity rules changed: 2 assets merged")
    assert "identity rules changed" not in tempox(config, "sources").stderr


def test_the_server_applies_changed_rules_when_it_starts(config: Path) -> None:
    settings = load_settings(config)
    create_app(settings)  # opening the catalog is part of building the app
    store = stored(config)
    with store.engine.connect() as conn:
        assert read_fingerprint(conn) == fingerprint(AFTER)
    with store.session() as s:
        assert OLD_ORDERS not in set(s.scalars(select(t.Asset.uri)))
    store.close()
