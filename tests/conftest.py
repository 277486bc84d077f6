"""Fixtures shared by every test folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from catalog.secrets import forget_secrets
from catalog.store.store import Store
from tests.databases import BACKENDS, database_url

PEERS_GROUP = "peers"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that needs the real orchestrators joins one xdist group, so that under
    ``--dist loadgroup`` one worker starts each orchestrator once (its fixtures are
    session-scoped: a second worker would start a second Airflow)."""
    for item in items:
        if item.get_closest_marker("peers") and not item.get_closest_marker("xdist_group"):
            item.add_marker(pytest.mark.xdist_group(PEERS_GROUP))


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """Refuse to run when pytest-xdist ignored the groups (pytest 9.2 with xdist 3.8 does so
    silently, pytest-xdist #1386): each worker would start its own Airflow and Dagster."""
    config = session.config
    if not hasattr(config, "workerinput") or config.getoption("dist", None) != "loadgroup":
        return
    for item in session.items:
        if item.get_closest_marker("xdist_group") and "@" not in item.nodeid:
            raise pytest.UsageError(
                f"pytest-xdist ignored --dist loadgroup for {item.nodeid} (pytest "
                f"{pytest.__version__}; see pytest-xdist #1386): install the pytest that "
                "pyproject.toml pins"
            )


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
