"""Asset check results."""

from __future__ import annotations

from catalog.records import Batch
from catalog.store import tables as t
from catalog.store.writes.common import Writer

_check = t.CheckResult.__table__  # type: ignore[attr-defined]


def write_checks(w: Writer, b: Batch) -> None:
    rows = [
        {
            "source_id": w.source_id,
            "result_key": c.key(),
            "asset_id": w.assets[c.asset_uri],
            "check_name": c.check_name,
            "passed": c.passed,
            "severity": c.severity,
            "at": c.at,
            "run_id": w.run(c.run_id, f"check {c.check_name!r}")[0] if c.run_id else None,
            "meta": dict(c.metadata),
        }
        for c in b.check_results
    ]
    keys = ["source_id", "result_key"]
    w.upsert(_check, rows, keys, [c for c in rows[0] if c not in keys] if rows else [])
