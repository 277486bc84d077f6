"""Secrets never leave through the CLI's logs and tracebacks, nor through uvicorn's logs."""

from __future__ import annotations

import copy
import logging
import logging.config
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import api.cli.sync
from api.cli import main
from api.cli.base import BriefFormatter, CliHandler, install_log_redaction
from catalog.config import CONFIG_ENV, DATABASE_URL_ENV
from catalog.errors import AdapterError
from catalog.secrets import MASK, RedactingFilter, forget_secrets, register_secret


@pytest.fixture
def secret() -> Iterator[str]:
    value = f"SENTINEL-{uuid.uuid4().hex}"
    register_secret(value)
    yield value
    forget_secrets()


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(CONFIG_ENV, raising=False)
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
    monkeypatch.chdir(tmp_path)


def tempox(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def failing(monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    """``tempox sources`` fails with ``error`` while it opens the store."""

    def open_settings_store(settings: object) -> None:
        raise error

    monkeypatch.setattr(api.cli.sync, "open_settings_store", open_settings_store)


def record(secret: str) -> logging.LogRecord:
    try:
        raise AdapterError(f"http://me:pw@airflow refused token={secret}")
    except AdapterError:
        exc_info = sys.exc_info()
    return logging.LogRecord(
        "tempox.sync",
        logging.WARNING,
        __file__,
        1,
        "sync of %s failed: %s",
        ("a", secret),
        exc_info,
    )


@pytest.mark.parametrize("debug", [False, True])
def test_brief_lines_are_masked_with_their_traceback(secret: str, debug: bool) -> None:
    line = BriefFormatter(debug).format(record(secret))
    assert line.startswith(f"WARNING tempox.sync: sync of a failed: {MASK}")
    assert secret not in line
    assert "me:pw" not in line
    assert ("Traceback (most recent call last)" in line) is debug
    if debug:
        assert "AdapterError: http://airflow refused token=***" in line


def test_a_debug_traceback_is_masked(secret: str, monkeypatch: pytest.MonkeyPatch) -> None:
    failing(monkeypatch, AdapterError(f"https://me:{secret}@db.example.com refused"))
    brief = tempox("sources")
    assert brief.exit_code == 1
    assert brief.stderr == "error: https://db.example.com refused\n"
    debug = tempox("--debug", "sources")
    assert debug.exit_code == 1
    assert debug.stderr.startswith("Traceback (most recent call last):\n")
    assert "catalog.errors.AdapterError: https://db.example.com refused" in debug.stderr
    assert secret not in debug.output


def test_an_unexpected_error_prints_a_masked_traceback(
    secret: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    failing(monkeypatch, RuntimeError(f"a bug, with Authorization: Bearer {secret}"))
    result = tempox("sources")
    assert result.exit_code == 1
    assert "RuntimeError: a bug, with Authorization: Bearer ***" in result.stderr
    assert secret not in result.output


def test_log_lines_of_a_command_are_masked(
    secret: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    Path("tempox.toml").write_text(f'[database]\nurl = "sqlite:///{tmp_path / "t.db"}"\n')

    def open_settings_store(settings: object) -> None:
        logging.getLogger("tempox.cli").warning("opening with password=%s", secret)
        logging.getLogger("tempox.cli").debug("url %s", f"http://me:{secret}@h")
        raise AdapterError("refused")

    monkeypatch.setattr(api.cli.sync, "open_settings_store", open_settings_store)
    result = tempox("--debug", "sources")
    assert "WARNING tempox.cli: opening with password=***" in result.stderr
    assert "DEBUG tempox.cli: url http://h" in result.stderr
    assert secret not in result.output


@pytest.fixture
def uvicorn_logging() -> Iterator[Callable[[], None]]:
    """Sets up logging as ``uvicorn.run`` does when it starts; undone afterwards."""
    uvicorn_config = pytest.importorskip("uvicorn.config")
    names = ("uvicorn", "uvicorn.error", "uvicorn.access")
    saved = {n: (logging.getLogger(n).handlers[:], logging.getLogger(n).propagate) for n in names}
    yield lambda: logging.config.dictConfig(copy.deepcopy(uvicorn_config.LOGGING_CONFIG))
    for name, (handlers, propagate) in saved.items():
        logger = logging.getLogger(name)
        logger.handlers, logger.propagate = handlers, propagate


def test_install_log_redaction_filters_every_handler_once(
    uvicorn_logging: Callable[[], None],
) -> None:
    uvicorn_logging()
    root_handler = CliHandler()
    logging.getLogger().addHandler(root_handler)
    try:
        install_log_redaction()
        install_log_redaction()
        for name in ("", "uvicorn", "uvicorn.access"):
            for handler in logging.getLogger(name or None).handlers:
                assert sum(isinstance(f, RedactingFilter) for f in handler.filters) == 1, name
    finally:
        logging.getLogger().removeHandler(root_handler)


def test_uvicorn_logs_are_masked_even_when_it_configures_logging_later(
    secret: str, uvicorn_logging: Callable[[], None], capsys: pytest.CaptureFixture[str]
) -> None:
    """``tempox serve`` installs the redaction before ``uvicorn.run`` replaces uvicorn's
    handlers with its own: the records are masked as they are made."""
    install_log_redaction()
    uvicorn_logging()
    logging.getLogger("uvicorn.error").error("Exception in ASGI application: %s", secret)
    path = f"/x?token={secret}"
    access = logging.getLogger("uvicorn.access")
    access.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5", "GET", path, "1.1", 200)
    out = capsys.readouterr()
    assert f"Exception in ASGI application: {MASK}" in out.err
    assert f'127.0.0.1:5 - "GET /x?token={MASK} HTTP/1.1" 200' in out.out
    assert secret not in out.out + out.err
