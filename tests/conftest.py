"""Fixtures shared by every test folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from catalog.secrets import forget_secrets
from catalog.store.store import Store
from tests.databases import BACKENDS, database_url


@pytest.fixture(autouse=True)
def _forget_secrets() -> Iterator[None]:
    """Every secret a test's adapters read is masked in all text of the process from then on
    (as in production); forgotten after the test, so the next one's output is its own."""
    yield
    forget_secrets()


@pytest.fixture(params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty database: once a SQLite file, once a fresh PostgreSQL schema."""
    with database_url(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def store(database: str) -> Iterator[Store]:
    """A migrated, empty store on each backend."""
    s = Store(database)
    yield s
    s.close()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'tempox.db'}"
