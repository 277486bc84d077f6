"""What each kind of rule finds in the catalog now: one :class:`Finding` per incident key.

A finding is a condition that holds at this evaluation (the pipeline's latest run failed, the
asset is stale…). The engine turns findings into incidents: a key found for the first time
opens one, a key no longer found resolves it. Each kind reads only what changed since the
rule's ``since`` plus the keys of the incidents still open, so an evaluation stays cheap on a
large estate.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from catalog.alerts.settings import RuleKind, RuleSettings, matches
from catalog.service import Catalog
from catalog.store import alert_facts as sql

__all__ = ["EVALUATORS", "Finding", "iso"]

NEVER = 10**9  # a count threshold that only ``due`` can meet


@dataclass(frozen=True, slots=True)
class Finding:
    key: str  # the incident: "pipeline:12", "asset:7", "source:3", "task:5", "check:7:name"
    title: str
    started_at: datetime  # when the condition began
    event_at: datetime  # its latest occurrence (a later one counts once more)
    facts: dict[str, Any]  # JSON: what the message says (source, pipeline, run, asset …)
    count: int = 1  # occurrences in a row known from the data
    threshold: int = 1  # occurrences needed to fire
    due: bool = False  # fires whatever the count (sync_failing's ``for``)
    run_id: int | None = None  # the impact is downstream of this run's outputs…
    asset_id: int | None = None  # …or of this asset
    labels: dict[str, str] = field(default_factory=dict)  # for silences: source, pipeline, asset


Evaluator = Callable[[Catalog, RuleSettings, datetime, datetime, Mapping[str, Any]], list[Finding]]


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _ids(open_alerts: Mapping[str, Any], prefix: str) -> set[int]:
    return {int(k.split(":")[1]) for k in open_alerts if k.startswith(prefix + ":")}


def _pipeline_matches(rule: RuleSettings, p: Mapping[str, Any]) -> bool:
    return (
        matches(rule.source, p["source"])
        and matches(rule.tool, p["tool"])
        and matches(rule.pipeline, [p["name"], p["external_id"]])
        and matches(rule.owner, p["owners"])
        and matches(rule.tag, p["tags"])
    )


def _pipeline(p: Mapping[str, Any]) -> dict[str, Any]:
    keys = ("id", "name", "external_id", "ui_url", "owners", "tags")
    return {k: p[k] for k in keys}


def _run(r: Any) -> dict[str, Any]:
    return {
        "id": r.id,
        "external_id": r.external_id,
        "status": r.status,
        "error": r.error,
        "ui_url": r.ui_url,
        "started_at": iso(r.started_at),
        "ended_at": iso(r.ended_at),
    }


def run_failed(
    catalog: Catalog, rule: RuleSettings, since: datetime, now: datetime, open_: Mapping[str, Any]
) -> list[Finding]:
    """A pipeline whose latest finished run failed (its last ``times`` runs, with ``times``)."""
    need = rule.times or 1
    out: list[Finding] = []
    with catalog.store.engine.connect() as conn:
        ids = set(sql.read_pipelines_with_failures(conn, since)) | _ids(open_, "pipeline")
        facts = sql.read_pipeline_facts(conn, sorted(ids))
        for pid in sorted(ids):
            p = facts.get(pid)
            if p is None or not _pipeline_matches(rule, p):
                continue
            runs = sql.read_latest_finished_runs(conn, pid, max(need, 20))
            streak = 0
            for r in runs:
                if r.status not in sql.FAILED:
                    break
                streak += 1
            if streak == 0:
                continue
            latest, first = runs[0], runs[streak - 1]
            name = p["name"]
            out.append(
                Finding(
                    key=f"pipeline:{pid}",
                    title=f"{p['tool']} {name}: run {latest.external_id} failed"
                    + (f" ({streak} in a row)" if streak > 1 else ""),
                    started_at=first.ended_at or first.happened_at,
                    event_at=latest.ended_at or latest.happened_at,
                    facts={
                        "source": {"name": p["source"], "tool": p["tool"]},
                        "pipeline": _pipeline(p),
                        "run": _run(latest),
                        "failures_in_a_row": streak,
                        "owners": list(p["owners"]),
                    },
                    count=streak,
                    threshold=need,
                    run_id=latest.id,
                    labels={"source": p["source"], "pipeline": name},
                )
            )
    return out


def _asset(a: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": a["id"],
        "uri": a["uri"],
        "owners": list(a["owners"]),
        "tags": list(a["tags"]),
        "last_produced_at": iso(a["last_produced_at"]),
        "stale_after": iso(a["stale_after"]),
        "max_age_s": a["max_age_s"],
    }


def _asset_matches(rule: RuleSettings, a: Mapping[str, Any]) -> bool:
    return (
        matches(rule.asset, a["uri"])
        and matches(rule.owner, a["owners"])
        and matches(rule.tag, a["tags"])
    )


def asset_stale(
    catalog: Catalog, rule: RuleSettings, since: datetime, now: datetime, open_: Mapping[str, Any]
) -> list[Finding]:
    """An asset whose freshness policy is violated now; it clears when it is produced again."""
    out: list[Finding] = []
    with catalog.store.engine.connect() as conn:
        ids = set(sql.read_stale_assets(conn, since, now)) | _ids(open_, "asset")
        facts = sql.read_asset_facts(conn, sorted(ids))
    for aid in sorted(ids):
        a = facts.get(aid)
        if a is None or a["max_age_s"] is None or not _asset_matches(rule, a):
            continue
        stale_after = a["stale_after"]
        if stale_after is not None and stale_after >= now:
            continue  # fresh (again)
        began = stale_after or now
        out.append(
            Finding(
                key=f"asset:{aid}",
                title=f"{a['uri']} is stale",
                started_at=began,
                event_at=began,
                facts={"asset": _asset(a), "owners": list(a["owners"])},
                asset_id=aid,
                labels={"asset": a["uri"]},
            )
        )
    return out


def sync_failing(
    catalog: Catalog, rule: RuleSettings, since: datetime, now: datetime, open_: Mapping[str, Any]
) -> list[Finding]:
    """A source whose syncs fail: ``times`` in a row, or no success for ``for``."""
    out: list[Finding] = []
    with catalog.store.engine.connect() as conn:
        rows = sql.read_sync_facts(conn)
    for r in rows:
        if r.outcome != "failed" or r.failed_at is None:
            continue
        if not (matches(rule.source, r.name) and matches(rule.tool, r.kind)):
            continue
        key = f"source:{r.id}"
        have = open_.get(key)
        began = have.started_at if have is not None else r.failed_at
        last_ok = r.succeeded_at or began
        due = rule.for_ is not None and now - last_ok >= rule.for_
        out.append(
            Finding(
                key=key,
                title=f"{r.kind} source {r.name}: sync failing",
                started_at=began,
                event_at=r.failed_at,
                facts={
                    "source": {"name": r.name, "tool": r.kind},
                    "sync": {
                        "error": r.error,
                        "failed_at": iso(r.failed_at),
                        "last_success_at": iso(r.succeeded_at),
                    },
                },
                threshold=rule.times or (NEVER if rule.for_ is not None else 1),
                due=due,
                labels={"source": r.name},
            )
        )
    return out


def task_slower(
    catalog: Catalog, rule: RuleSettings, since: datetime, now: datetime, open_: Mapping[str, Any]
) -> list[Finding]:
    """A task whose recent successful attempts are ``min_ratio`` times slower (slowerTasks)."""
    trends = catalog.slower_tasks(rule.recent, rule.baseline, rule.min_ratio, first=500)
    if not trends:
        return []
    with catalog.store.engine.connect() as conn:
        tasks = sql.read_task_facts(conn, [tr.task_id for tr in trends])
        pipelines = sql.read_pipeline_facts(conn, [t["pipeline_id"] for t in tasks.values()])
    out: list[Finding] = []
    for tr in trends:
        task = tasks.get(tr.task_id)
        p = pipelines.get(task["pipeline_id"]) if task is not None else None
        if task is None or p is None or not _pipeline_matches(rule, p):
            continue
        at = task["last_success_at"] or now
        out.append(
            Finding(
                key=f"task:{tr.task_id}",
                title=f"{p['tool']} {p['name']}.{task['name']} got slower: "
                f"{tr.recent_median_s:.0f}s, was {tr.baseline_median_s:.0f}s (x{tr.ratio:.2f})",
                started_at=at,
                event_at=at,
                facts={
                    "source": {"name": p["source"], "tool": p["tool"]},
                    "pipeline": _pipeline(p),
                    "task": {"id": task["id"], "name": task["name"]},
                    "trend": {
                        "recent_runs": tr.recent_runs,
                        "recent_median_s": tr.recent_median_s,
                        "baseline_runs": tr.baseline_runs,
                        "baseline_median_s": tr.baseline_median_s,
                        "ratio": tr.ratio,
                    },
                    "owners": list(p["owners"]),
                },
                labels={"source": p["source"], "pipeline": p["name"]},
            )
        )
    return out


def check_failed(
    catalog: Catalog, rule: RuleSettings, since: datetime, now: datetime, open_: Mapping[str, Any]
) -> list[Finding]:
    """An asset's data-quality check whose latest result failed; it clears when one passes."""
    with catalog.store.engine.connect() as conn:
        pairs = set(sql.read_failed_checks(conn, since))
        for key in open_:
            _, asset_text, check_name = key.split(":", 2)
            pairs.add((int(asset_text), check_name))
        facts = sql.read_asset_facts(conn, sorted({a for a, _ in pairs}))
        latest = {p: sql.read_latest_check(conn, *p) for p in sorted(pairs)}
    out: list[Finding] = []
    for (aid, name), r in latest.items():
        a = facts.get(aid)
        if r is None or r.passed or a is None or not _asset_matches(rule, a):
            continue
        if not matches(rule.check, name):
            continue
        out.append(
            Finding(
                key=f"check:{aid}:{name}",
                title=f"check {name} failed on {a['uri']}",
                started_at=r.at,
                event_at=r.at,
                facts={
                    "asset": _asset(a),
                    "check": {"name": name, "severity": r.severity, "at": iso(r.at)},
                    "owners": list(a["owners"]),
                },
                asset_id=aid,
                labels={"asset": a["uri"]},
            )
        )
    return out


EVALUATORS: dict[RuleKind, Evaluator] = {
    RuleKind.RUN_FAILED: run_failed,
    RuleKind.ASSET_STALE: asset_stale,
    RuleKind.SYNC_FAILING: sync_failing,
    RuleKind.TASK_SLOWER: task_slower,
    RuleKind.CHECK_FAILED: check_failed,
}
