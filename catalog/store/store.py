"""The store: the only place that talks SQL. Writes go through :meth:`Store.write_batch`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, select, update
from sqlalchemy.orm import Session

from catalog.enums import SyncOutcome
from catalog.errors import NotFoundError
from catalog.records import Batch
from catalog.store import tables as t
from catalog.store.engine import make_engine
from catalog.store.migrate import upgrade
from catalog.store.writes import bump, upsert, write_batch

LINEAGE_VERSION = "lineage_version"
DATA_VERSION = "data_version"

_source = t.Source.__table__  # type: ignore[attr-defined]
_sync = t.SyncState.__table__  # type: ignore[attr-defined]
_meta = t.Meta.__table__  # type: ignore[attr-defined]


def utcnow() -> datetime:
    return datetime.now(UTC)


class Store:
    """A catalog database. Thread-safe: every call takes its own connection from the pool."""

    def __init__(self, url: str, *, engine: Engine | None = None, migrate: bool = True) -> None:
        self.url = url
        self.engine = engine or make_engine(url)
        if migrate:
            upgrade(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def session(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    # -- sources and sync state ---------------------------------------------------------------

    def ensure_source(
        self,
        name: str,
        kind: str,
        *,
        base_url: str | None = None,
        settings: dict[str, Any] | None = None,
    ) -> int:
        with self.transaction() as conn:
            upsert(
                conn,
                _source,
                [{"name": name, "kind": kind, "base_url": base_url, "settings": settings or {}}],
                ["name"],
                ["kind", "base_url", "settings"],
            )
            source_id: int = conn.execute(
                select(_source.c.id).where(_source.c.name == name)
            ).scalar_one()
            upsert(
                conn,
                _sync,
                [
                    {
                        "source_id": source_id,
                        "outcome": SyncOutcome.NEVER.value,
                        "batches": 0,
                        "records": 0,
                        "notices": [],
                    }
                ],
                ["source_id"],
            )
            return source_id

    def source_id(self, name: str) -> int:
        with self.engine.connect() as conn:
            found = conn.execute(select(_source.c.id).where(_source.c.name == name)).scalar()
        if found is None:
            raise NotFoundError(f"no source named {name!r}")
        return int(found)

    def read_cursor(self, source_id: int) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            cursor = conn.execute(
                select(_sync.c.cursor).where(_sync.c.source_id == source_id)
            ).scalar()
        return dict(cursor) if cursor else None

    def try_lease(self, source_id: int, owner: str, ttl: timedelta) -> bool:
        """Claim the right to sync a source; False while another worker holds a live lease.

        One conditional UPDATE, so two processes (or API replicas) racing for the same source
        cannot both win, on SQLite or PostgreSQL.
        """
        now = utcnow()
        with self.transaction() as conn:
            claimed = conn.execute(
                update(_sync)
                .where(_sync.c.source_id == source_id)
                .where(
                    (_sync.c.lease_owner.is_(None))
                    | (_sync.c.lease_owner == owner)
                    | (_sync.c.lease_expires_at < now)
                )
                .values(
                    lease_owner=owner,
                    lease_expires_at=now + ttl,
                    started_at=now,
                    outcome=SyncOutcome.RUNNING.value,
                    batches=0,
                    records=0,
                )
            ).rowcount
        return bool(claimed)

    def finish_sync(self, source_id: int, owner: str, error: str | None) -> None:
        now = utcnow()
        values: dict[str, Any] = {"lease_owner": None, "lease_expires_at": None}
        if error is None:
            values |= {"outcome": SyncOutcome.OK.value, "succeeded_at": now, "error": None}
        else:
            values |= {"outcome": SyncOutcome.FAILED.value, "failed_at": now, "error": error}
        with self.transaction() as conn:
            conn.execute(
                update(_sync)
                .where(_sync.c.source_id == source_id, _sync.c.lease_owner == owner)
                .values(**values)
            )

    def write_batch(
        self,
        source_id: int,
        batch: Batch,
        *,
        lease_ttl: timedelta | None = None,
        owner: str | None = None,
    ) -> None:
        """Write a batch and move the source's cursor past it, in one transaction.

        A crash before the commit leaves neither the records nor the cursor; after it, both.
        So a sync killed at any point resumes where the last commit left it.
        """
        now = utcnow()
        with self.transaction() as conn:
            written = write_batch(conn, source_id, batch, now)
            values: dict[str, Any] = {
                "cursor": dict(batch.cursor),
                "batches": _sync.c.batches + 1,
                "records": _sync.c.records + batch.size(),
            }
            if batch.notices is not None:
                values["notices"] = list(batch.notices)
            if owner is not None and lease_ttl is not None:
                values["lease_expires_at"] = now + lease_ttl
            conn.execute(update(_sync).where(_sync.c.source_id == source_id).values(**values))
            # Versions move only when the catalog changed, so caches keyed on them survive
            # a sync that found nothing new.
            if written.changed:
                bump(conn, DATA_VERSION)
            if written.lineage_changed:
                bump(conn, LINEAGE_VERSION)

    # -- versions -------------------------------------------------------------------------------

    def version(self, key: str) -> int:
        with self.engine.connect() as conn:
            value = conn.execute(select(_meta.c.value).where(_meta.c.key == key)).scalar()
        return int(value or 0)
