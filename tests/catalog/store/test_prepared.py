"""Prepared statements: compiled once per shape, each execution binding its own values."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, event, select

from catalog.store import tables as t
from catalog.store.prepared import Statements, padded
from catalog.store.store import Store

SOURCE = t.table(t.Source).c


def test_padded_lists_repeat_their_last_value_up_to_a_power_of_two() -> None:
    assert padded([1]) == [1]
    assert padded([1, 2, 3]) == [1, 2, 3, 3]
    assert padded(list(range(5))) == [0, 1, 2, 3, 4, 4, 4, 4]


def test_a_kept_statement_binds_each_executions_values(store: Store) -> None:
    store.ensure_source("a-source", "airflow")
    store.ensure_source("b-source", "dagster")
    st = store.statements
    built: list[int] = []

    def build() -> Any:
        built.append(1)
        return select(SOURCE.name, SOURCE.kind).where(SOURCE.name == bindparam("name"))

    with st.cursor() as cursor:
        a = st.get("by_name", build).rows(cursor, {"name": "a-source"})
        b = st.get("by_name", build).rows(cursor, {"name": "b-source"})
    assert [tuple(r) for r in a] == [("a-source", "airflow")]
    assert [tuple(r) for r in b] == [("b-source", "dagster")]
    assert len(built) == 1


def test_reads_in_a_reading_block_share_one_connection_and_are_heard(store: Store) -> None:
    heard: list[str] = []

    def listen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        heard.append(statement)

    outside = store.versions("data_version", "lineage_version")
    event.listen(store.engine, "before_cursor_execute", listen)
    try:
        with store.statements.reading():
            with store.statements.cursor() as first, store.statements.cursor() as second:
                assert first is second
            assert store.versions("data_version") == outside[:1]
            assert store.versions("data_version", "lineage_version") == outside
    finally:
        event.remove(store.engine, "before_cursor_execute", listen)
    assert len([s for s in heard if "meta" in s]) == 1  # every counter, read once


def test_the_kept_shapes_are_bounded(store: Store) -> None:
    st = Statements(store.engine, size=2)
    for n in range(5):
        st.get(("shape", n), lambda: select(SOURCE.id))
    assert len(st._cache) == 2
