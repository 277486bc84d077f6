from __future__ import annotations

import importlib
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.synthetic import SyntheticAdapter
from catalog.adapter import adapter_class, discover_adapters, scan_adapters
from catalog.config import parse_settings
from catalog.errors import ConfigError

PLUGIN = "tempox_test_plugin"


@pytest.fixture
def broken_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """An installed distribution whose adapters do not load: one fails to import, one is no
    adapter at all."""
    dist = tmp_path / f"{PLUGIN}-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {PLUGIN}\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        f"[tempox.adapters]\nbroken = {PLUGIN}:BrokenAdapter\nnotanadapter = json:dumps\n"
    )
    (tmp_path / f"{PLUGIN}.py").write_text("import airflow_client_that_is_not_installed\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    scan_adapters.cache_clear()
    yield
    scan_adapters.cache_clear()


def test_discovery_finds_the_synthetic_adapter() -> None:
    assert discover_adapters()["synthetic"] is SyntheticAdapter
    assert adapter_class("synthetic") is SyntheticAdapter


def test_unknown_kind_names_the_kinds_available() -> None:
    with pytest.raises(ConfigError, match=r"unknown adapter kind 'nope' \(available: .*synthetic"):
        adapter_class("nope")


@pytest.mark.usefixtures("broken_plugin")
def test_a_broken_plugin_is_skipped_and_reported(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="tempox.adapters"):
        found = discover_adapters()
    assert found["synthetic"] is SyntheticAdapter  # the host and the other plugins live on
    assert "broken" not in found
    assert "notanadapter" not in found
    assert "adapter 'broken' skipped" in caplog.text

    failures = scan_adapters().failures
    assert failures["broken"].startswith(
        f"{PLUGIN}:BrokenAdapter failed to import: ModuleNotFoundError"
    )
    assert "is not a subclass of catalog.adapter.Adapter" in failures["notanadapter"]
    with pytest.raises(ConfigError, match="'broken' is installed but could not be loaded"):
        adapter_class("broken")


@pytest.mark.usefixtures("broken_plugin")
def test_a_source_of_a_broken_kind_fails_alone() -> None:
    settings = parse_settings(
        {"sources": {"ok": {"kind": "synthetic"}, "bad": {"kind": "broken", "url": "x"}}},
        file="tempox.toml",
    )
    assert settings.sources["ok"].adapter is SyntheticAdapter
    bad = settings.sources["bad"]
    assert bad.adapter is None
    assert bad.public_settings() == {}
    with pytest.raises(ConfigError) as caught:
        bad.create_adapter()
    assert str(caught.value).startswith(
        "source 'bad': adapter 'broken' is installed but could not be loaded: "
        f"{PLUGIN}:BrokenAdapter failed to import: ModuleNotFoundError: "
        "No module named 'airflow_client_that_is_not_installed'"
    )
