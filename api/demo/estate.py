"""The demo estate: what was recorded, how the demo's sources are configured, and loading it.

The recordings in ``recordings/`` were made by ``python -m tests.api.demo.record`` from real
Airflow 3, Prefect 3 and Dagster servers running the test estates, plus the cross-tool story
of ``tests/adapters/test_cross_tool.py``: Airflow writes ``s3://lake/raw/orders``, Dagster's
warehouse assets depend on it, a Prefect flow builds a revenue report from Dagster's
``daily_revenue`` and a BI job reports over OpenLineage that it read the report.

Loading replays each tool's recording on a local port, syncs a source pointed at it (the
adapter cannot tell it from the real server) and feeds the OpenLineage events through the
intake. Every time is moved so that the recording ends :data:`RECORDING_AGE` before now.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from api.demo.replay import Cassette, ReplayServer
from api.demo.timeshift import TimeShift
from api.openlineage import LineageIntake, parse_events
from catalog.config import Settings, parse_settings
from catalog.store.store import Store
from catalog.sync import sync_sources
from catalog.sync_types import SyncResult

RECORDINGS = Path(__file__).parent / "recordings"
TOOLS = ("airflow", "prefect", "dagster")
OPENLINEAGE_EVENTS = RECORDINGS / "openlineage.ndjson"
# A day and a bit: assets with a 24-hour freshness window are overdue, last week's failures
# are still last week's.
RECORDING_AGE = timedelta(hours=26)
AIRFLOW_USER = "admin"
AIRFLOW_PASSWORD_ENV = "TEMPOX_DEMO_AIRFLOW_PASSWORD"
# Deep links name each tool's usual local address, not the replay port that is gone later.
UI_URLS = {
    "airflow": "http://localhost:8080",
    "prefect": "http://localhost:4200",
    "dagster": "http://localhost:3000",
}
DAGSTER_RULES = [
    {"prefix": ["lake"], "namespace": "s3://lake"},
    {"prefix": ["warehouse"], "namespace": "postgres://warehouse:5432"},
    {"prefix": [], "namespace": "dagster://localhost:3000"},
]


def demo_sources(roots: Mapping[str, str]) -> dict[str, Any]:
    """The ``[sources]`` of the demo, each tool's server at ``roots[tool]`` (no path)."""
    return {
        "airflow": {
            "kind": "airflow",
            "base_url": roots["airflow"],
            "ui_url": UI_URLS["airflow"],
            "username": AIRFLOW_USER,
            "password_env": AIRFLOW_PASSWORD_ENV,
        },
        "prefect": {
            "kind": "prefect",
            "api_url": f"{roots['prefect']}/api",
            "ui_url": UI_URLS["prefect"],
        },
        "dagster": {
            "kind": "dagster",
            "url": roots["dagster"],
            "ui_url": UI_URLS["dagster"],
            "asset_rules": DAGSTER_RULES,
        },
    }


def demo_settings(roots: Mapping[str, str]) -> Settings:
    return parse_settings({"sources": demo_sources(roots)}, file="the demo's settings")


@dataclass(frozen=True, slots=True)
class Loaded:
    results: list[SyncResult]
    events: int  # OpenLineage events fed through the intake
    misses: list[str]  # requests a recording had no answer for (each is a bug in the demo)
    shift: timedelta


def load_demo(store: Store, now: datetime | None = None) -> Loaded:
    """Replay the recordings into ``store`` as if they ended a day before ``now``."""
    cassettes = {tool: Cassette.load(RECORDINGS / f"{tool}.json.gz") for tool in TOOLS}
    start = min(c.recorded_from for c in cassettes.values())
    end = max(c.recorded_until for c in cassettes.values())
    delta = (now or datetime.now(UTC)) - RECORDING_AGE - end
    shift = TimeShift(delta, start, end)
    # The recording has the password redacted; any value lets the adapter sign in. Not a word:
    # Tempox masks every secret it reads wherever it shows, and "demo" is the name of things.
    os.environ.setdefault(AIRFLOW_PASSWORD_ENV, "replayed-recording-no-password")
    with ExitStack() as stack:
        servers = {
            tool: stack.enter_context(ReplayServer(cassette, shift))
            for tool, cassette in cassettes.items()
        }
        settings = demo_settings({tool: s.url for tool, s in servers.items()})
        results = sync_sources(store, settings)
    lines = OPENLINEAGE_EVENTS.read_text(encoding="utf-8").splitlines()
    events = [e for line in lines if line.strip() for e in parse_events(shift.text(line).encode())]
    LineageIntake(store, settings.server.openlineage_source).write(events)
    misses = [m for s in servers.values() for m in s.misses]
    return Loaded(results, len(events), misses, delta)
