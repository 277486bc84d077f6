"""The store: the only place that talks SQL. Writes go through :meth:`Store.write_batch`."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, delete, make_url, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from catalog.enums import SyncOutcome, SyncTrigger
from catalog.errors import ConfigError, NotFoundError, TempoxError
from catalog.identity import NO_RULES, IdentityRules
from catalog.records import Batch, ReceivedEvent
from catalog.secrets import redact, strip_userinfo
from catalog.store import sync_requests
from catalog.store import tables as t
from catalog.store.audit import write_audit
from catalog.store.bulk import upsert
from catalog.store.engine import make_engine
from catalog.store.identity_apply import ensure_identity
from catalog.store.lineage_events import Received, ToBatch, decide_runs, store_new_events
from catalog.store.migrate import current_revision, head_revision, upgrade
from catalog.store.prepared import Statements
from catalog.store.versions import DATA_VERSION, LINEAGE_VERSION, SYNC_VERSION
from catalog.store.writes import bump, write_batch

_source = t.Source.__table__  # type: ignore[attr-defined]
_sync = t.SyncState.__table__  # type: ignore[attr-defined]
_meta = t.Meta.__table__  # type: ignore[attr-defined]
_link = t.AssetLink.__table__  # type: ignore[attr-defined]


def utcnow() -> datetime:
    return datetime.now(UTC)


class LeaseLost(TempoxError):
    """Another worker took over a source whose lease ran out while this one was syncing it."""


@dataclass(frozen=True, slots=True)
class SourceState:
    """A source and where its sync stands, as ``tempox sources`` shows it."""

    name: str
    kind: str
    base_url: str | None
    outcome: str
    started_at: datetime | None
    succeeded_at: datetime | None
    failed_at: datetime | None
    error: str | None
    batches: int
    records: int
    notices: list[str]
    lease_owner: str | None
    lease_expires_at: datetime | None


class Store:
    """A catalog database. Thread-safe: every call takes its own connection from the pool."""

    def __init__(
        self,
        url: str,
        *,
        engine: Engine | None = None,
        migrate: bool = True,
        identity: IdentityRules = NO_RULES,
    ) -> None:
        self.url = url
        self.identity = identity  # how asset references become identities, on every write
        self.engine = engine or make_engine(url)
        self.statements = Statements(self.engine)  # the hottest reads, compiled once
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
                [
                    {
                        "name": name,
                        "kind": kind,
                        "base_url": strip_userinfo(base_url) if base_url else None,
                        "settings": settings or {},
                    }
                ],
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
                        "syncs": 0,
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

    def try_lease(
        self, source_id: int, owner: str, ttl: timedelta, *, replacing: str | None = None
    ) -> bool:
        """Claim the right to sync a source; False while another worker holds a live lease.

        One conditional UPDATE, so two processes (or API replicas) racing for the same source
        cannot both win, on SQLite or PostgreSQL. ``replacing`` names a holder known to be dead
        (a killed process on this host), whose lease is taken over before it runs out. A sync
        claims it with :meth:`claim_sync`, which says what started it.
        """
        claim = self.claim_sync(source_id, owner, ttl, SyncTrigger.MANUAL, replacing=replacing)
        return claim is not None

    def claim_sync(
        self,
        source_id: int,
        owner: str,
        ttl: timedelta,
        trigger: SyncTrigger,
        *,
        replacing: str | None = None,
        only_requested: bool = False,
    ) -> sync_requests.Claim | None:
        """:meth:`try_lease`, taking the source's pending push request with the lease
        (:func:`catalog.store.sync_requests.claim`); None while another worker holds it."""
        return sync_requests.claim(
            self.engine,
            source_id,
            owner,
            ttl,
            trigger,
            utcnow(),
            replacing=replacing,
            only_requested=only_requested,
        )

    def request_sync(
        self, source_id: int, hints: list[dict[str, Any]]
    ) -> sync_requests.Request | None:
        """Record a push: the next sync of the source serves it (coalesced with others)."""
        return sync_requests.request(self.engine, source_id, hints, utcnow())

    def sync_requested(self, source_id: int) -> bool:
        return sync_requests.is_requested(self.engine, source_id)

    def pending_hints(self, source_id: int) -> tuple[dict[str, Any], ...]:
        """The hints of the push request waiting for the source's next sync (none: no request,
        or one without hints)."""
        return sync_requests.pending_hints(self.engine, source_id)

    def read_lease_owner(self, source_id: int) -> str | None:
        """Who holds the source's lease now (None: nobody, or the lease ran out)."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(_sync.c.lease_owner, _sync.c.lease_expires_at).where(
                    _sync.c.source_id == source_id
                )
            ).first()
        if row is None or row.lease_owner is None:
            return None
        if row.lease_expires_at is not None and row.lease_expires_at < utcnow():
            return None
        return str(row.lease_owner)

    def read_sources_with_state(self) -> list[SourceState]:
        """Every source with where its sync stands, by name."""
        query = (
            select(
                _source.c.name,
                _source.c.kind,
                _source.c.base_url,
                _sync.c.outcome,
                _sync.c.started_at,
                _sync.c.succeeded_at,
                _sync.c.failed_at,
                _sync.c.error,
                _sync.c.batches,
                _sync.c.records,
                _sync.c.notices,
                _sync.c.lease_owner,
                _sync.c.lease_expires_at,
            )
            .select_from(_source.outerjoin(_sync, _sync.c.source_id == _source.c.id))
            .order_by(_source.c.name)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            SourceState(
                name=r.name,
                kind=r.kind,
                base_url=r.base_url,
                outcome=r.outcome or SyncOutcome.NEVER.value,
                started_at=r.started_at,
                succeeded_at=r.succeeded_at,
                failed_at=r.failed_at,
                error=r.error,
                batches=r.batches or 0,
                records=r.records or 0,
                notices=list(r.notices or []),
                lease_owner=r.lease_owner,
                lease_expires_at=r.lease_expires_at,
            )
            for r in rows
        ]

    def finish_sync(self, source_id: int, owner: str, error: str | None) -> None:
        now = utcnow()
        values: dict[str, Any] = {"lease_owner": None, "lease_expires_at": None}
        if error is None:
            values |= {"outcome": SyncOutcome.OK.value, "succeeded_at": now, "error": None}
        else:
            # Masked again here: whatever a caller passes, no secret is kept (or served).
            values |= {
                "outcome": SyncOutcome.FAILED.value,
                "failed_at": now,
                "error": redact(error),
            }
        with self.transaction() as conn:
            finished = conn.execute(
                update(_sync)
                .where(_sync.c.source_id == source_id, _sync.c.lease_owner == owner)
                .values(**values)
            ).rowcount
            if finished:
                bump(conn, SYNC_VERSION)

    def write_batch(
        self,
        source_id: int,
        batch: Batch,
        *,
        lease_ttl: timedelta | None = None,
        owner: str | None = None,
        move_cursor: bool = True,
    ) -> None:
        """Write a batch and move the source's cursor past it, in one transaction.

        A crash before the commit leaves neither the records nor the cursor; after it, both.
        So a sync killed at any point resumes where the last commit left it. With ``owner``,
        the batch commits only while ``owner`` holds the lease (renewed for ``lease_ttl``), and
        :class:`LeaseLost` is raised if another worker took the source over meanwhile. With
        ``move_cursor=False`` the cursor stays as it is (the batch's is ignored): a batch read
        out of order, such as the runs a push named, says nothing about where the sync is.
        """
        now = utcnow()
        with self.transaction() as conn:
            self._commit(
                conn,
                source_id,
                batch,
                now,
                lease_ttl=lease_ttl,
                owner=owner,
                move_cursor=move_cursor,
            )

    def receive(
        self,
        source_id: int,
        events: Sequence[ReceivedEvent],
        to_batch: ToBatch,
    ) -> Received:
        """Store pushed events and write their records, in one transaction.

        An event already stored (same run key, event type and event time) is a repeated
        delivery: neither stored nor applied again. Each run's identity is the one its first
        event stated (remembered by run id). ``to_batch`` gets the indexes of the events new
        to the catalog, every run's decided identity and, by run key, the events stored before
        that those needing them need (oldest first); it returns their records.
        """
        now = utcnow()
        with self.transaction() as conn:
            new, history = store_new_events(conn, source_id, events, now)
            runs = decide_runs(conn, source_id, [events[i] for i in new], now)
            if new:
                self._commit(conn, source_id, to_batch(new, runs, history), now)
        return Received(stored=len(new), duplicates=len(events) - len(new))

    def _commit(
        self,
        conn: Connection,
        source_id: int,
        batch: Batch,
        now: datetime,
        *,
        lease_ttl: timedelta | None = None,
        owner: str | None = None,
        move_cursor: bool = True,
    ) -> None:
        written = write_batch(conn, source_id, batch, now, self.identity)
        values: dict[str, Any] = {
            "batches": _sync.c.batches + 1,
            "records": _sync.c.records + batch.size(),
        }
        if move_cursor:
            values["cursor"] = dict(batch.cursor)
        if batch.notices is not None:
            values["notices"] = list(batch.notices)
        state = update(_sync).where(_sync.c.source_id == source_id)
        if owner is not None:
            state = state.where(_sync.c.lease_owner == owner)
            if lease_ttl is not None:
                values["lease_expires_at"] = now + lease_ttl
        if conn.execute(state.values(**values)).rowcount == 0 and owner is not None:
            # Raising rolls the batch back: the worker that holds the lease writes it.
            raise LeaseLost(
                f"source {source_id}: the lease of {owner!r} ran out and another worker "
                "took the source over"
            )
        # The data version moves only when the catalog changed, so caches keyed on it survive
        # a sync that found nothing new; the sync state changed all the same.
        bump(conn, SYNC_VERSION)
        if written.changed:
            bump(conn, DATA_VERSION)
        if written.lineage_changed:
            bump(conn, LINEAGE_VERSION)

    # -- asset links ----------------------------------------------------------------------------

    def link_assets(
        self, a: int, b: int, *, by: str, note: str | None, now: datetime | None = None
    ) -> t.AssetLink:
        """Link two assets as the same (again: who, when and the note are replaced). ``by``,
        the principal, is recorded on the link and in the audit log, in one transaction."""
        low, high = sorted((a, b))
        at = now or utcnow()
        row = {
            "asset_id": low,
            "other_id": high,
            "reason": "manual",
            "linked_by": by,
            "linked_at": at,
            "note": note,
        }
        with self.transaction() as conn:
            upsert(conn, _link, [row], ["asset_id", "other_id"], ["linked_by", "linked_at", "note"])
            write_audit(
                conn,
                at=at,
                principal=by,
                action="asset.link",
                target=f"{low}-{high}",
                detail={"assets": [low, high], "note": note},
            )
            bump(conn, DATA_VERSION)
            bump(conn, LINEAGE_VERSION)
        with self.session() as s:
            found = s.scalars(
                select(t.AssetLink).where(
                    t.AssetLink.asset_id == low,  # type: ignore[arg-type]
                    t.AssetLink.other_id == high,  # type: ignore[arg-type]
                )
            ).one()
            return found

    def unlink_assets(self, a: int, b: int, *, by: str, now: datetime | None = None) -> bool:
        """Remove the link between two assets; False when there was none (nothing audited)."""
        low, high = sorted((a, b))
        with self.transaction() as conn:
            gone = conn.execute(
                delete(_link).where(_link.c.asset_id == low, _link.c.other_id == high)
            ).rowcount
            if gone:
                write_audit(
                    conn,
                    at=now or utcnow(),
                    principal=by,
                    action="asset.unlink",
                    target=f"{low}-{high}",
                    detail={"assets": [low, high]},
                )
                bump(conn, DATA_VERSION)
                bump(conn, LINEAGE_VERSION)
        return bool(gone)

    # -- versions -------------------------------------------------------------------------------

    def version(self, key: str) -> int:
        (value,) = self.versions(key)
        return value

    def versions(self, *keys: str) -> tuple[int, ...]:
        """Several versions in one round trip, in the order asked (0: never moved). Asked
        before every answer: a statement compiled once, on the bare cursor."""
        shared = self.statements.shared()
        if shared is not None:
            # In a reading block (one snapshot): every counter, read once for the block.
            if "versions" not in shared.kept:
                every = self.statements.get(
                    "every_version", lambda: select(_meta.c.key, _meta.c.value)
                )
                shared.kept["versions"] = {k: int(v) for k, v in every.rows(shared, {})}
            known: dict[str, int] = shared.kept["versions"]
            return tuple(known.get(key, 0) for key in keys)
        prepared = self.statements.get(
            ("versions", len(keys)),
            lambda: select(_meta.c.key, _meta.c.value).where(
                _meta.c.key.in_([bindparam(f"k_{i}") for i in range(len(keys))])
            ),
        )
        with self.statements.cursor() as cursor:
            rows = prepared.rows(cursor, {f"k_{i}": key for i, key in enumerate(keys)})
        found = {key: int(value) for key, value in rows}
        return tuple(found.get(key, 0) for key in keys)


def unreachable(url: str, exc: OperationalError) -> ConfigError:
    """``database.url`` named, the URL without its password, and the driver's reason alone."""
    first = str(exc.orig if exc.orig is not None else exc).strip().splitlines()
    # psycopg: 'connection failed: connection to server at "h", port p failed: <reason>'
    reason = (first[0] if first else type(exc).__name__).rpartition("failed: ")[2]
    reason = reason.removeprefix("FATAL:").strip()
    return ConfigError(
        f"database.url (or $TEMPOX_DATABASE_URL): cannot open {display_url(url)}: {reason}"
    )


def display_url(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL: shown without any user-info it might carry
        return strip_userinfo(url)


def open_store(
    url: str,
    *,
    auto_upgrade: bool = True,
    identity: IdentityRules = NO_RULES,
    reresolve: bool = True,
) -> Store:
    """The store at ``url``, migrated to this Tempox's schema or refused with the fix to run.

    With ``reresolve``, a catalog written under other ``[identity]`` rules than ``identity``
    is first brought in line with them (see :mod:`catalog.store.identity_apply`). A database
    that cannot be reached is a :class:`ConfigError` naming the setting.
    """
    try:
        store = Store(url, migrate=auto_upgrade, identity=identity)
    except OperationalError as exc:
        raise unreachable(url, exc) from None
    if not auto_upgrade:
        have, want = current_revision(store.engine), head_revision()
        if have != want:
            store.close()
            raise ConfigError(
                f"the database is at revision {have or 'none'}, this Tempox needs {want}: "
                "run `tempox db upgrade` (or set [database] auto_upgrade = true)"
            )
    if reresolve:
        try:
            ensure_identity(store.engine, identity)
        except BaseException:
            store.close()
            raise
    return store
