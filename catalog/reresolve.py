"""Re-resolving a catalog's assets under new identity rules: what each asset becomes.

The catalog keeps no record of every spelling a source used, only what identity it gave each
reference and the aliases it kept. So a reference is re-resolved per (asset, source):

- a source that reached the asset through spellings it kept as aliases (reason ``canonical
  spelling``, ``rule …``, ``alias``) goes where those spellings now resolve;
- a source that kept no such spelling named the asset by its identity as written: it goes
  where that identity now resolves, and the old identity becomes its alias (with the reason);
- the source's own names for it (a Dagster key) follow the source.

An asset whose sources go to different identities is split: its own description, freshness
policy, metadata, owners and tags stay with the identity most of them go to (where it would
itself resolve, when one goes there); the others start bare, as a fresh sync whose source
reported only references would leave them. When one source used several spellings that now
part, which of its references went by which spelling is not known: they all follow the
spelling its asset's identity resolves like, and the plan says so (``ambiguous``).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from catalog.identity import IdentityRules

__all__ = ["AliasRow", "Plan", "is_spelling", "plan"]

Pair = tuple[int, int]  # (asset id, source id)


def is_spelling(reason: str | None) -> bool:
    """Whether an alias with ``reason`` is a spelling the identity rules resolved (and not the
    source's own name for the asset)."""
    return reason is not None and (
        reason in ("canonical spelling", "alias") or reason.startswith("rule ")
    )


@dataclass(frozen=True, slots=True)
class AliasRow:
    asset_id: int
    source_id: int
    alias: str
    reason: str | None


@dataclass
class Plan:
    """Where each asset and each (asset, source) reference goes, and the aliases to keep."""

    uris: dict[int, str]  # asset id → its identity now
    pairs: set[Pair] = field(default_factory=set)  # every (asset, source) reference
    targets: dict[Pair, str] = field(default_factory=dict)  # pairs whose identity changes
    primary: dict[int, str] = field(default_factory=dict)  # asset id → where its own data goes
    aliases: dict[tuple[int, str], tuple[str, str | None]] = field(default_factory=dict)
    ambiguous: list[tuple[str, int]] = field(default_factory=list)  # (asset uri, source id)

    def contributors(self) -> dict[str, set[int]]:
        """Each identity that changes → the assets whose data goes to it."""
        out: dict[str, set[int]] = defaultdict(set)
        for (asset_id, _), target in self.targets.items():
            out[target].add(asset_id)
        for asset_id, target in self.primary.items():
            out[target].add(asset_id)
        return out

    def merges(self) -> dict[str, list[str]]:
        """Identity → the old identities merged into it (two or more)."""
        # The asset that has the identity already and keeps its own data there.
        holders = {u: a for a, u in self.uris.items() if a not in self.primary}
        out = {}
        for target, assets in sorted(self.contributors().items()):
            merged = assets | ({holders[target]} if target in holders else set())
            if len(merged) > 1:
                out[target] = sorted(self.uris[a] for a in merged)
        return out

    def renames(self) -> dict[str, str]:
        """Old identity → new one, for assets that move whole, alone."""
        merged = {u for old in self.merges().values() for u in old}
        split = set(self.splits())
        return {
            self.uris[a]: target
            for a, target in sorted(self.primary.items(), key=lambda x: self.uris[x[0]])
            if target != self.uris[a] and self.uris[a] not in merged | split
        }

    def splits(self) -> dict[str, list[str]]:
        """Old identity → the identities its references part into (two or more)."""
        parts: dict[int, set[str]] = defaultdict(set)
        for (asset_id, _), target in self.targets.items():
            parts[asset_id].add(target)
        for asset_id in parts:
            parts[asset_id].add(self.primary.get(asset_id, self.uris[asset_id]))
        return {self.uris[a]: sorted(p) for a, p in sorted(parts.items()) if len(p) > 1}

    def empty(self) -> bool:
        return not self.targets and not self.primary

    def final(self, pair: Pair) -> str:
        """The identity a reference ends at."""
        return self.targets.get(pair, self.uris[pair[0]])

    def final_primary(self, asset_id: int) -> str:
        """The identity an asset's own data ends at."""
        return self.primary.get(asset_id, self.uris[asset_id])

    def needed(self) -> set[str]:
        """Every identity the catalog holds afterwards."""
        out = {self.final_primary(a) for a in self.uris}
        out.update(self.final(p) for p in self.pairs)
        out.update(identity for identity, _ in self.aliases.values())
        return out


def plan(
    rules: IdentityRules,
    uris: dict[int, str],
    aliases: Iterable[AliasRow],
    references: Iterable[Pair],
) -> Plan:
    """What re-resolving the assets ``uris`` (id → identity) under ``rules`` changes.

    ``aliases`` are the stored aliases, ``references`` every (asset, source) pair a source's
    event, check, edge or column lineage makes.
    """
    out = Plan(dict(uris))
    spellings: dict[Pair, list[AliasRow]] = defaultdict(list)
    own_names: dict[Pair, list[AliasRow]] = defaultdict(list)
    pairs: set[Pair] = set(references)
    for row in aliases:
        pair = (row.asset_id, row.source_id)
        pairs.add(pair)
        (spellings if is_spelling(row.reason) else own_names)[pair].append(row)
    out.pairs = pairs
    by_asset: dict[int, list[int]] = defaultdict(list)
    for asset_id, source_id in sorted(pairs):
        by_asset[asset_id].append(source_id)

    for asset_id, uri in uris.items():
        itself, _ = rules.resolve(uri)
        targets: dict[int, str] = {}
        for source_id in by_asset.get(asset_id, []):
            pair = (asset_id, source_id)
            went = {rules.resolve(r.alias)[0] for r in spellings.get(pair, [])}
            if len(went) > 1:
                out.ambiguous.append((uri, source_id))
            if not went or itself in went:
                targets[source_id] = itself
            else:
                targets[source_id] = min(went)
        counts = Counter(targets.values())
        if not counts or itself in counts:
            primary = itself
        else:
            primary = min(counts, key=lambda t: (-counts[t], t))
        if primary != uri:
            out.primary[asset_id] = primary
        for source_id, target in targets.items():
            if target != uri:
                out.targets[(asset_id, source_id)] = target
        _keep_aliases(out, rules, asset_id, uri, targets, spellings, own_names)
    return out


def _keep_aliases(
    out: Plan,
    rules: IdentityRules,
    asset_id: int,
    uri: str,
    targets: dict[int, str],
    spellings: dict[Pair, list[AliasRow]],
    own_names: dict[Pair, list[AliasRow]],
) -> None:
    """The aliases a fresh sync would keep for the sources of one asset: (source, alias) →
    (identity, reason)."""
    for source_id, target in targets.items():
        pair = (asset_id, source_id)
        kept = spellings.get(pair, [])
        for row in kept:
            identity, reason = rules.resolve(row.alias)
            if reason is not None:
                out.aliases.setdefault((source_id, row.alias), (identity, reason))
        if not kept:
            identity, reason = rules.resolve(uri)
            if reason is not None:
                out.aliases.setdefault((source_id, uri), (identity, reason))
        for row in own_names.get(pair, []):
            out.aliases.setdefault((source_id, row.alias), (target, row.reason))
