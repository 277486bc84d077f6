"""Generated bodies at POST /api/v1/lineage: never a 5xx, and a refusal writes nothing.

Bodies are valid events (the corpus' and a hand-made one that carries every facet the intake
reads) with random mutations: values of the wrong type, integers past 32 and 64 bits, NaN and
infinities, deep nesting, strings with NUL or lone surrogates, huge and multi-byte names,
extreme times, missing and extra fields; and batches of them, random JSON and random bytes.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from starlette.testclient import TestClient

from api.app import create_app
from catalog.service import Catalog
from catalog.store import tables as t
from catalog.store.store import Store
from tests.corpus import events

URL = "/api/v1/lineage"
JSON = {"content-type": "application/json"}
_TABLES = (
    t.Source,
    t.Pipeline,
    t.Task,
    t.Run,
    t.TaskRun,
    t.Asset,
    t.AssetAlias,
    t.AssetEvent,
    t.CheckResult,
    t.LineageEdge,
    t.ColumnLineage,
    t.Meta,
)


def _full_event() -> dict[str, Any]:
    """A COMPLETE event of a task run with every facet the intake reads."""
    facet = {"_producer": "https://example.com/p", "_schemaURL": "https://example.com/s"}
    return {
        "eventType": "COMPLETE",
        "eventTime": "2024-05-01T10:00:00.123456789+02:00",
        "producer": "https://example.com/producer",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {
            "runId": "0193a0b6-2a8e-7c6e-9b1a-3f1c1f0e9a01",
            "facets": {
                "parent": {
                    **facet,
                    "run": {"runId": "0193a0b6-2a8e-7c6e-9b1a-3f1c1f0e9a02"},
                    "job": {"namespace": "airflow", "name": "dag"},
                },
                "nominalTime": {**facet, "nominalStartTime": "2024-05-01T00:00:00Z"},
                "errorMessage": {**facet, "message": "boom", "programmingLanguage": "python"},
                "airflow": {**facet, "taskInstance": {"try_number": 2, "map_index": 3}},
            },
        },
        "job": {
            "namespace": "airflow",
            "name": "dag.task",
            "facets": {"jobType": {**facet, "processingType": "BATCH", "jobType": "TASK"}},
        },
        "inputs": [
            {
                "namespace": "postgres://db:5432",
                "name": "public.orders",
                "inputFacets": {
                    "dataQualityMetrics": {**facet, "rowCount": 42, "columnMetrics": {}},
                    "dataQualityAssertions": {
                        **facet,
                        "assertions": [{"assertion": "not_null", "success": False, "column": "id"}],
                    },
                },
            }
        ],
        "outputs": [
            {
                "namespace": "s3://lake",
                "name": "orders",
                "facets": {
                    "symlinks": {
                        **facet,
                        "identifiers": [
                            {"namespace": "hive", "name": "db.orders", "type": "TABLE"}
                        ],
                    },
                    "columnLineage": {
                        **facet,
                        "fields": {
                            "id": {
                                "inputFields": [
                                    {
                                        "namespace": "postgres://db:5432",
                                        "name": "public.orders",
                                        "field": "id",
                                    }
                                ]
                            }
                        },
                    },
                },
                "outputFacets": {"outputStatistics": {**facet, "rowCount": 7, "size": 1024}},
            }
        ],
    }


BASES: list[dict[str, Any]] = [
    _full_event(),
    *events("simple_run_event"),
    *events("airflow")[:4],
    *events("CLL")[:2],
    {
        "eventTime": "2024-05-01T10:00:00Z",
        "producer": "https://example.com/producer",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetEvent",
        "dataset": {"namespace": "s3://lake", "name": "orders"},
    },
]

# Values that have broken a catalog before.
_INTS = st.one_of(
    st.sampled_from(
        [2**31 - 1, 2**31, -(2**31) - 1, 2**63 - 1, 2**63, -(2**63), -(2**63) - 1, 10**40]
    ),
    st.integers(min_value=-(2**70), max_value=2**70),
)
_NON_FINITE = st.sampled_from([math.nan, math.inf, -math.inf])
_ODD_CHARS = st.sampled_from(["\x00", "\ud800", "\udfff", "\ud83d", "\ufffe", "\u202e", "é"])
_STRINGS = st.one_of(
    st.text(max_size=20),
    st.builds(lambda a, c, b: a + c + b, st.text(max_size=5), _ODD_CHARS, st.text(max_size=5)),
    st.builds(lambda c, n: c * n, st.sampled_from(["x", "語", "\U0001f600"]), st.integers(0, 3000)),
    st.sampled_from(["x" * 1_001, "x" * 2_401, "語" * 1_000, "x" * 100_000]),
)
_OFFSETS = st.integers(min_value=-1439, max_value=1439).map(
    lambda m: timezone(timedelta(minutes=m))
)
_TIMES = st.one_of(
    st.sampled_from(
        [
            "0001-01-01T00:00:00+14:00",
            "0001-01-01T00:00:00Z",
            "0001-01-02T00:00:00Z",
            "9999-12-31T23:59:59-14:00",
            "9999-12-30T23:59:59.999999999Z",
            "2024-05-01T24:00:00Z",
            "2024-02-30T10:00:00Z",
            "2024-05-01T10:00:00+24:00",
            "2024-05-01T10:00:00",
            "2024-05-01",
            "2024-W18-3T10:00Z",
            "T",
            "",
        ]
    ),
    st.builds(
        lambda d, tz: d.replace(tzinfo=tz).isoformat(),
        st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)),
        _OFFSETS,
    ),
)
_JSON: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | _INTS | st.floats() | _STRINGS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_STRINGS, inner, max_size=4),
    max_leaves=12,
)


class _Deep:
    """A value nested ``depth`` arrays and objects deep: serialised by hand (json.dumps
    recurses)."""

    def __init__(self, depth: int) -> None:
        self.depth = depth

    def text(self) -> str:
        opening = "".join("[" if i % 2 else '{"d":' for i in range(self.depth))
        closing = "".join("]" if i % 2 else "}" for i in reversed(range(self.depth)))
        return f"{opening}0{closing}"


_NASTY = st.one_of(
    _INTS,
    _NON_FINITE,
    _STRINGS,
    _TIMES,
    _JSON,
    st.integers(min_value=1, max_value=5_000).map(_Deep),
)

# Fields the intake reads, where a bad value does the most harm.
_TARGETS = [
    ("eventTime",),
    ("eventType",),
    ("run", "runId"),
    ("run", "facets", "nominalTime", "nominalStartTime"),
    ("run", "facets", "nominalTime", "nominalEndTime"),
    ("run", "facets", "airflow", "taskInstance", "try_number"),
    ("run", "facets", "airflow", "taskInstance", "map_index"),
    ("run", "facets", "airflow", "taskInstance"),
    ("run", "facets", "parent", "run", "runId"),
    ("run", "facets", "parent", "job", "name"),
    ("run", "facets", "errorMessage", "message"),
    ("job", "namespace"),
    ("job", "name"),
    ("inputs", 0, "name"),
    ("inputs", 0, "inputFacets", "dataQualityMetrics", "rowCount"),
    ("inputs", 0, "inputFacets", "dataQualityAssertions", "assertions", 0, "assertion"),
    ("outputs", 0, "namespace"),
    ("outputs", 0, "outputFacets", "outputStatistics", "rowCount"),
    ("outputs", 0, "outputFacets", "outputStatistics", "size"),
    ("outputs", 0, "facets", "symlinks", "identifiers", 0, "name"),
    ("outputs", 0, "facets", "columnLineage", "fields", "id", "inputFields", 0, "field"),
    ("dataset", "name"),
]


_NAMES = st.one_of(
    st.text(st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=30),
    st.builds(lambda c, n: c * n, st.sampled_from(["x", "語", "\U0001f600"]), st.integers(1, 1200)),
)
# The same fields with values of the right type, often valid: bodies that reach the store.
_TYPED: list[tuple[tuple[str | int, ...], st.SearchStrategy[Any]]] = [
    (("eventTime",), _TIMES),
    (("eventType",), st.sampled_from(["START", "RUNNING", "COMPLETE", "FAIL", "ABORT", "OTHER"])),
    (("run", "runId"), _NAMES),
    (("run", "facets", "nominalTime", "nominalStartTime"), _TIMES),
    (("run", "facets", "airflow", "taskInstance", "try_number"), _INTS),
    (("run", "facets", "airflow", "taskInstance", "map_index"), _INTS),
    (("run", "facets", "parent", "run", "runId"), _NAMES),
    (("job", "namespace"), _NAMES),
    (("job", "name"), _NAMES),
    (("inputs", 0, "namespace"), _NAMES),
    (("inputs", 0, "name"), _NAMES),
    (("inputs", 0, "inputFacets", "dataQualityMetrics", "rowCount"), _INTS),
    (("outputs", 0, "name"), _NAMES),
    (("outputs", 0, "outputFacets", "outputStatistics", "rowCount"), _INTS),
    (("outputs", 0, "facets", "symlinks", "identifiers", 0, "name"), _NAMES),
    (("outputs", 0, "facets", "columnLineage", "fields", "id", "inputFields", 0, "field"), _NAMES),
    (("dataset", "name"), _NAMES),
]


def _put(node: Any, path: tuple[str | int, ...], value: Any) -> None:
    """Set ``value`` at ``path``, making objects on the way; give up where a step cannot be."""
    for step in path[:-1]:
        if isinstance(node, dict) and isinstance(step, str):
            node = node.setdefault(step, {})
        elif isinstance(node, list) and isinstance(step, int) and step < len(node):
            node = node[step]
        else:
            return
    last = path[-1]
    if isinstance(node, dict) and isinstance(last, str):
        node[last] = value
    if isinstance(node, list) and isinstance(last, int) and last < len(node):
        node[last] = value


@st.composite
def _mutated(draw: st.DrawFn) -> Any:
    e = copy.deepcopy(draw(st.sampled_from(BASES)))
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        how = draw(
            st.sampled_from(["typed", "typed", "typed", "target", "anywhere", "drop", "add"])
        )
        if how == "typed":
            path, values = draw(st.sampled_from(_TYPED))
            _put(e, path, draw(values))
            continue
        if how == "target":
            _put(e, draw(st.sampled_from(_TARGETS)), draw(_NASTY))
            continue
        # A random walk to some container of the event.
        node: Any = e
        while draw(st.booleans()):
            children = list(node.values() if isinstance(node, dict) else node)
            containers = [c for c in children if isinstance(c, dict | list) and c]
            if not containers:
                break
            node = draw(st.sampled_from(containers))
        if isinstance(node, dict) and node:
            key = draw(st.sampled_from(sorted(node)))
            if how == "drop":
                del node[key]
            elif how == "add":
                node[draw(_STRINGS)] = draw(_NASTY)
            else:
                node[key] = draw(_NASTY)
        elif isinstance(node, list) and node:
            node[draw(st.integers(min_value=0, max_value=len(node) - 1))] = draw(_NASTY)
    return e


def _serialise(body: Any) -> bytes:
    """JSON as a careless producer writes it: NaN allowed, surrogates and NUL escaped."""
    deep: dict[str, _Deep] = {}

    def default(o: object) -> str:
        if isinstance(o, _Deep):
            marker = f"\x01deep{len(deep)}\x01"
            deep[marker] = o
            return marker
        raise TypeError(type(o).__name__)

    text = json.dumps(body, default=default)
    for marker, value in deep.items():
        text = text.replace(json.dumps(marker), value.text())
    return text.encode()


_BODIES = st.one_of(
    _mutated().map(_serialise),
    _mutated().map(_serialise),
    _mutated().map(_serialise),
    st.lists(_mutated(), min_size=1, max_size=3).map(_serialise),
    _JSON.map(_serialise),
    _mutated()
    .map(_serialise)
    .flatmap(lambda b: st.integers(min_value=0, max_value=len(b)).map(lambda n: b[:n])),
    st.binary(max_size=200),
)


@pytest.fixture
def http(store: Store) -> Iterator[TestClient]:
    with TestClient(create_app(catalog=Catalog(store)), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def seen() -> dict[str, Any]:
    """What the examples of one test share besides the store."""
    return {}


def _snapshot(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Every row the intake can write, in full."""
    with store.session() as s:
        return {
            m.__name__: sorted(tuple(map(repr, row)) for row in s.execute(select(t.table(m))))
            for m in _TABLES
        }


@settings(
    max_examples=300,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=_BODIES)
def test_no_body_makes_a_5xx_and_a_refusal_writes_nothing(
    http: TestClient, store: Store, seen: dict[str, Any], body: bytes
) -> None:
    # The rows as the last example left them: taken again only after a body was stored.
    before = seen.get("rows") or _snapshot(store)
    response = http.post(URL, content=body, headers=JSON)
    assert response.status_code < 500, (response.status_code, response.text[:300], body[:300])
    if response.status_code >= 300:
        assert response.json()["error"]
        assert _snapshot(store) == before, body[:300]
        seen["rows"] = before
    else:
        seen.pop("rows", None)
