"""Bringing a catalog in line with changed ``[identity]`` rules, as if synced afresh under them.

The digest of the rules the assets were last resolved under is kept in ``catalog_state``. At
start (:func:`ensure_identity`), a catalog whose digest differs from the rules it is given (or
has none) re-resolves every asset (:mod:`catalog.reresolve`): assets that now have one identity
are merged, an asset whose sources now part is split, and their events, check results, lineage
edges, column lineage, hand links, aliases, owners and tags follow; rows that now coincide are
one. Everything happens in one transaction, under the migration lock, so several processes
starting together apply it once and a failure leaves nothing half-written.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, delete, func, select, update

from catalog import freshness
from catalog.enums import AssetEventKind
from catalog.identity import IdentityRules, fingerprint
from catalog.reresolve import AliasRow, Pair, Plan, plan
from catalog.store import identity_moves as moves
from catalog.store import tables as t
from catalog.store.audit import write_audit
from catalog.store.bulk import upsert
from catalog.store.migrate import migration_lock
from catalog.store.versions import DATA_VERSION, LINEAGE_VERSION
from catalog.store.writes import bump, chunks

__all__ = ["IdentityReport", "apply_identity", "ensure_identity", "read_fingerprint"]

FINGERPRINT = "identity_fingerprint"

log = logging.getLogger("tempox.identity")

_state = t.table(t.CatalogState)
_asset = t.table(t.Asset)
_alias = t.table(t.AssetAlias)
_event = t.table(t.AssetEvent)
_check = t.table(t.CheckResult)
_edge = t.table(t.LineageEdge)
_column = t.table(t.ColumnLineage)
_source = t.table(t.Source)

_ATTRIBUTES = ("kind", "description", "meta")
_POLICY = ("freshness_max_age_s", "freshness_cron", "freshness_timezone")


@dataclass
class IdentityReport:
    """What re-resolving changed (or, in a dry run, would change)."""

    fingerprint: str
    previous: str | None
    dry_run: bool = False
    merges: dict[str, list[str]] = field(default_factory=dict)  # identity ← old identities
    renames: dict[str, str] = field(default_factory=dict)
    splits: dict[str, list[str]] = field(default_factory=dict)  # old identity → identities
    ambiguous: list[str] = field(default_factory=list)  # "<asset> (source <name>)"
    counts: Counter[str] = field(default_factory=Counter)
    # Another process applied these rules while this one waited for the lock: nothing done.
    applied_elsewhere: bool = False

    @property
    def changed(self) -> bool:
        return any(self.counts.values())

    def summary(self) -> str:
        """One line: what changed."""
        c = self.counts
        merged = sum(len(v) for v in self.merges.values())
        parts = [
            f"{merged} assets merged into {len(self.merges)}",
            f"{len(self.renames)} renamed",
            f"{len(self.splits)} split",
            f"{c['events']} events moved ({c['duplicate events']} duplicates dropped)",
            f"{c['checks']} check results moved ({c['duplicate checks']} duplicates dropped)",
            f"{c['edges']} lineage edges",
            f"{c['column lineage']} column lineage rows",
            f"{c['links']} hand links",
            f"{c['aliases written']} aliases written, {c['aliases removed']} removed",
        ]
        return "; ".join(parts)

    def lines(self) -> list[str]:
        """The changes one per line, for people."""
        out = [f"merge  {t} ← {', '.join(old)}" for t, old in self.merges.items()]
        out += [f"rename {old} → {new}" for old, new in self.renames.items()]
        out += [f"split  {old} → {', '.join(new)}" for old, new in self.splits.items()]
        out += [f"note   {a}: several spellings now part; re-sync it" for a in self.ambiguous]
        return out


def read_fingerprint(conn: Connection) -> str | None:
    value = conn.execute(select(_state.c.value).where(_state.c.key == FINGERPRINT)).scalar()
    return None if value is None else str(value)


def ensure_identity(engine: Engine, rules: IdentityRules) -> IdentityReport | None:
    """At start: re-resolve the catalog if it was resolved under other rules than ``rules``
    (or under unknown ones), logging one line when that changed anything. None when the
    stored fingerprint is that of ``rules`` (the usual start: one read, no lock)."""
    wanted = fingerprint(rules)
    with engine.connect() as conn:
        if read_fingerprint(conn) == wanted:
            return None
    report = apply_identity(engine, rules, only_if_changed=True)
    if report.changed:
        log.warning("identity rules changed: %s", report.summary())
    return report


def apply_identity(
    engine: Engine,
    rules: IdentityRules,
    *,
    dry_run: bool = False,
    only_if_changed: bool = False,
    now: datetime | None = None,
) -> IdentityReport:
    """Re-resolve every asset under ``rules`` and store their fingerprint, in one transaction
    under the migration lock. A dry run does it all and rolls it back. ``only_if_changed``:
    nothing is done when the stored fingerprint is already that of ``rules`` (another process
    applied them while this one waited for the lock)."""
    wanted = fingerprint(rules)
    with engine.connect() as conn, migration_lock(conn), conn.begin() as tx:
        previous = read_fingerprint(conn)
        report = IdentityReport(wanted, previous, dry_run)
        if only_if_changed and previous == wanted:
            report.applied_elsewhere = True
            return report
        _Applier(conn, rules, report, now or datetime.now(UTC)).run()
        if dry_run:
            tx.rollback()
    return report


class _Applier:
    def __init__(
        self, conn: Connection, rules: IdentityRules, report: IdentityReport, now: datetime
    ) -> None:
        self.conn = conn
        self.rules = rules
        self.report = report
        self.now = now

    def run(self) -> None:
        p = self._plan()
        report, c = self.report, self.report.counts
        report.merges, report.renames, report.splits = p.merges(), p.renames(), p.splits()
        names = dict(self.conn.execute(select(_source.c.id, _source.c.name)).all())
        report.ambiguous = [f"{uri} (source {names.get(s, s)})" for uri, s in p.ambiguous]
        rows = self._rows(p)
        targets = {pair: rows[target] for pair, target in p.targets.items()}
        # The assets whose references or own data move, and the rows they move to.
        involved = {a for a, _ in p.targets} | set(p.primary)
        involved |= {rows[target] for target in [*p.targets.values(), *p.primary.values()]}
        keyed = {pair: (p.uris[pair[0]], to, rows[to]) for pair, to in p.targets.items()}
        c["events"], c["duplicate events"] = moves.move_keyed(self.conn, _event, "event_key", keyed)
        c["checks"], c["duplicate checks"] = moves.move_keyed(
            self.conn, _check, "result_key", keyed
        )
        c["edges"] = moves.move_edges(self.conn, targets, involved)
        c["column lineage"] = moves.move_column_lineage(self.conn, targets, involved)
        primary = {a: rows[p.final_primary(a)] for a in p.uris}
        c["links"] = moves.move_links(self.conn, primary, involved)
        aliases = {k: (rows[identity], why) for k, (identity, why) in p.aliases.items()}
        c["aliases written"], c["aliases removed"] = moves.write_aliases(self.conn, aliases)
        self._describe(p, rows, primary)
        gone = sorted(set(p.uris) - set(rows.values()))
        for part in chunks(gone):
            self.conn.execute(delete(_asset).where(_asset.c.id.in_(part)))
        c["assets removed"] += len(gone)
        self._refresh_produced(involved & set(rows.values()))
        if report.changed:
            bump(self.conn, DATA_VERSION)
            bump(self.conn, LINEAGE_VERSION)
            write_audit(
                self.conn,
                at=self.now,
                principal="tempox",
                action="identity.apply",
                target=report.fingerprint[:12],
                detail={"summary": report.summary(), "previous": report.previous},
            )
        upsert(
            self.conn,
            _state,
            [{"key": FINGERPRINT, "value": report.fingerprint, "changed_at": self.now}],
            ["key"],
            ["value", "changed_at"],
        )

    def _plan(self) -> Plan:
        conn = self.conn
        uris = dict(conn.execute(select(_asset.c.id, _asset.c.uri)).all())
        aliases = [
            AliasRow(*r)
            for r in conn.execute(
                select(_alias.c.asset_id, _alias.c.source_id, _alias.c.alias, _alias.c.reason)
            )
        ]
        refs: set[Pair] = set()
        for table, column in (
            (_event, _event.c.asset_id),
            (_check, _check.c.asset_id),
            (_column, _column.c.output_asset_id),
            (_column, _column.c.input_asset_id),
        ):
            q = select(column, table.c.source_id).distinct()
            refs.update((a, s) for a, s in conn.execute(q))
        for id_col, kind_col in (
            (_edge.c.from_id, _edge.c.from_kind),
            (_edge.c.to_id, _edge.c.to_kind),
        ):
            q = select(id_col, _edge.c.source_id).where(kind_col == moves.ASSET).distinct()
            refs.update((a, s) for a, s in conn.execute(q))
        return plan(self.rules, uris, aliases, refs)

    def _rows(self, p: Plan) -> dict[str, int]:
        """The asset row of every identity the catalog holds afterwards: the row that has it,
        else a row that loses its own (renamed), else a new one."""
        needed = p.needed()
        by_uri = {uri: i for i, uri in p.uris.items()}
        rows = {uri: by_uri[uri] for uri in needed if uri in by_uri}
        free = sorted(i for i, uri in p.uris.items() if uri not in needed)
        for uri in sorted(needed - set(rows)):
            renamed = next((i for i in free if p.final_primary(i) == uri), None)
            if renamed is not None:
                free.remove(renamed)
                self.conn.execute(update(_asset).where(_asset.c.id == renamed).values(uri=uri))
                rows[uri] = renamed
                self.report.counts["assets renamed"] += 1
            else:
                self.conn.execute(_asset.insert().values(uri=uri, meta={}))
                rows[uri] = self.conn.execute(
                    select(_asset.c.id).where(_asset.c.uri == uri)
                ).scalar_one()
                self.report.counts["assets created"] += 1
        return rows

    def _describe(self, p: Plan, rows: dict[str, int], primary: dict[int, int]) -> None:
        """Each asset row described by the assets whose own data now goes to it (merged in
        the order they were created); a row nobody's data goes to is left bare."""
        contributors: dict[int, list[int]] = {i: [] for i in rows.values()}
        for asset_id, row in primary.items():
            contributors[row].append(asset_id)
        changed = {r: sorted(c) for r, c in contributors.items() if c != [r]}
        if not changed:
            return
        ids = set(changed) | {a for c in changed.values() for a in c}
        stored: dict[int, dict[str, Any]] = {}
        for part in chunks(sorted(ids)):
            cols = [_asset.c.id, *(_asset.c[x] for x in _ATTRIBUTES + _POLICY)]
            for r in self.conn.execute(select(*cols).where(_asset.c.id.in_(part))):
                stored[r.id] = dict(r._mapping)
        labels = moves.read_labels(self.conn, ids)
        wanted_labels = {}
        for row, sources in changed.items():
            values: dict[str, Any] = {x: None for x in _ATTRIBUTES + _POLICY} | {"meta": {}}
            owners: set[str] = set()
            tags: set[str] = set()
            for a in sources:
                s = stored[a]
                for x in ("kind", "description"):
                    if s[x] is not None:
                        values[x] = s[x]
                values["meta"] = {**values["meta"], **(s["meta"] or {})}
                if s["freshness_max_age_s"] is not None:
                    values.update({x: s[x] for x in _POLICY})
                owners |= labels[a][0]
                tags |= labels[a][1]
            if any(values[x] != stored[row][x] for x in values):
                self.conn.execute(update(_asset).where(_asset.c.id == row).values(**values))
            wanted_labels[row] = (owners, tags)
        gone = set(p.uris) - set(rows.values())
        wanted_labels.update({i: (set(), set()) for i in gone})
        moves.write_labels(self.conn, wanted_labels)
        self.report.counts["assets described"] += len(changed)

    def _refresh_produced(self, ids: set[int]) -> None:
        """When each asset was last produced, and so when it turns stale, from its events."""
        produced = AssetEventKind.PRODUCED.value
        changes = []
        for part in chunks(sorted(ids)):
            last = dict(
                self.conn.execute(
                    select(_event.c.asset_id, func.max(_event.c.at))
                    .where(_event.c.asset_id.in_(part), _event.c.kind == produced)
                    .group_by(_event.c.asset_id)
                ).all()
            )
            q = select(
                _asset.c.id,
                _asset.c.last_produced_at,
                _asset.c.stale_after,
                *(_asset.c[x] for x in _POLICY),
            ).where(_asset.c.id.in_(part))
            for r in self.conn.execute(q):
                at = last.get(r.id)
                stale = freshness.stale_after(
                    at, r.freshness_max_age_s, r.freshness_cron, r.freshness_timezone
                )
                if (at, stale) != (r.last_produced_at, r.stale_after):
                    changes.append({"i": r.id, "at": at, "s": stale})
        if changes:
            self.conn.execute(
                update(_asset)
                .where(_asset.c.id == bindparam("i"))
                .values(last_produced_at=bindparam("at"), stale_after=bindparam("s")),
                changes,
            )
