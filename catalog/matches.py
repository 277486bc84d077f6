"""Likely but unlinked matches: assets that are probably one dataset under two identities.

Two assets whose names end in the same table (or file) name, in different namespaces (a
database and a bucket, two hosts), are shown to a person to confirm with a link; nothing is
linked automatically. Within one namespace a shared last name is two datasets
(``raw/orders`` and ``clean/orders``), not a match. A name shared by very many assets
(``data``, ``output``) says nothing and is left out.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import combinations
from urllib.parse import urlsplit

MAX_GROUP = 10  # assets sharing one name beyond this are not a signal
_EXTENSION = re.compile(r"\.(csv|json|parquet|avro|orc|txt|jsonl|ndjson|gz)$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Match:
    asset_id: int
    other_id: int
    name: str  # the table or file name they share


def table_name(uri: str) -> str:
    """The last part of a dataset's name, lower case: ``…/shop.public.Orders`` → ``orders``."""
    path = urlsplit(uri).path if "://" in uri else uri
    last = path.rstrip("/").rsplit("/", 1)[-1]
    last = _EXTENSION.sub("", last)
    return last.rsplit(".", 1)[-1].lower()


def namespace(uri: str) -> str:
    """``scheme://authority`` of a URI; a bare name has none."""
    if "://" not in uri:
        return ""
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.netloc}"


def likely_matches(assets: Iterable[tuple[int, str]], linked: set[tuple[int, int]]) -> list[Match]:
    """Pairs of ``(id, uri)`` sharing a table name across namespaces, not linked yet, by name."""
    groups: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for asset_id, uri in assets:
        name = table_name(uri)
        if name:
            groups[name].append((asset_id, namespace(uri)))
    out = [
        Match(a, b, name)
        for name, members in groups.items()
        if 1 < len(members) <= MAX_GROUP
        for (a, ns_a), (b, ns_b) in combinations(sorted(members), 2)
        if ns_a != ns_b and (a, b) not in linked
    ]
    out.sort(key=lambda m: (m.name, m.asset_id, m.other_id))
    return out
