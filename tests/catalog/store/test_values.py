"""Membership in a list bound as one parameter, and lookups run straight on the driver."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, bindparam, event, insert, select

from catalog.store import tables as t
from catalog.store.prepared import select_rows
from catalog.store.store import Store
from catalog.store.values import in_values

SOURCE = t.table(t.Source)


def _sources(store: Store, n: int) -> dict[str, int]:
    with store.transaction() as conn:
        conn.execute(
            insert(SOURCE),
            [{"name": f"s{i:05d}", "kind": "synthetic", "settings": {}} for i in range(n)],
        )
        return dict(conn.execute(select(SOURCE.c.name, SOURCE.c.id)).all())


def test_in_values_matches_ints_and_strings_of_any_count(store: Store) -> None:
    ids = _sources(store, 40_000)  # past SQLite's bound-parameter limit (32,766)
    names = sorted(ids)[::2]
    with store.engine.connect() as conn:
        by_name = conn.execute(select(SOURCE.c.id).where(in_values(SOURCE.c.name, names)))
        assert sorted(by_name.scalars()) == sorted(ids[n] for n in names)
        by_id = conn.execute(
            select(SOURCE.c.name).where(in_values(SOURCE.c.id, [ids["s00007"], -1, -1]))
        )
        assert by_id.scalars().all() == ["s00007"]
        none = conn.execute(select(SOURCE.c.id).where(in_values(SOURCE.c.id, [])))
        assert none.all() == []


def test_in_values_keeps_one_statement_text_whatever_the_count(store: Store) -> None:
    _sources(store, 10)
    seen: list[str] = []

    def heard(*args: Any) -> None:
        seen.append(args[2])

    event.listen(store.engine, "before_cursor_execute", heard)
    try:
        with store.engine.connect() as conn:
            for n in (1, 5, 10):
                values = [f"s{i:05d}" for i in range(n)]
                found = conn.execute(select(SOURCE.c.id).where(in_values(SOURCE.c.name, values)))
                assert len(found.all()) == n
    finally:
        event.remove(store.engine, "before_cursor_execute", heard)
    assert len(set(seen)) == 1


def _by_kind() -> Select[Any]:
    return select(SOURCE.c.name, SOURCE.c.settings).where(
        SOURCE.c.kind == bindparam("kind"), in_values(SOURCE.c.id, key="ids")
    )


def test_select_rows_runs_in_the_transaction_with_the_columns_own_types(store: Store) -> None:
    ids = _sources(store, 3)
    with store.transaction() as conn:
        conn.execute(insert(SOURCE).values(name="late", kind="airflow", settings={"a": 1}))
        late = conn.execute(select(SOURCE.c.id).where(SOURCE.c.name == "late")).scalar_one()
        wanted = [ids["s00001"], late]
        synthetic = select_rows(conn, _by_kind, ids=wanted, kind="synthetic")
        airflow = select_rows(conn, _by_kind, ids=wanted, kind="airflow")
    assert [r[0] for r in synthetic] == ["s00001"]
    assert [r[0] for r in airflow] == ["late"]  # not committed yet: the same transaction
    assert airflow[0][1] == {"a": 1}  # read through the column's result processor
