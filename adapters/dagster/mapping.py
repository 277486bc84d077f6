"""Dagster's GraphQL answers → catalog records. Pure functions of the JSON, no requests."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from adapters.dagster import states
from adapters.dagster.keys import AssetKeys, alias
from catalog.enums import AssetEventKind, EdgeOrigin, RunStatus, TriggerKind
from catalog.records import (
    AssetEventRecord,
    AssetRecord,
    CheckResultRecord,
    ColumnLineageRecord,
    EdgeRecord,
    NodeRef,
    PipelineRecord,
    RunRecord,
    TaskRecord,
    TaskRunRecord,
)
from catalog.secrets import strip_userinfo

JSON = Mapping[str, Any]
ROW_COUNT = "dagster/row_count"
COLUMN_SCHEMA = "dagster/column_schema"
COLUMN_LINEAGE = "dagster/column_lineage"

# What started a run, from the tags Dagster sets on it (first match wins).
TRIGGER_TAGS: tuple[tuple[str, TriggerKind], ...] = (
    ("dagster/backfill", TriggerKind.BACKFILL),
    ("dagster/schedule_name", TriggerKind.SCHEDULED),
    ("dagster/sensor_name", TriggerKind.EVENT),
    ("dagster/auto_materialize", TriggerKind.EVENT),
    ("dagster/from_automation_condition", TriggerKind.EVENT),
)

# Job tags that name the job's owners, read in this order (the source's ``owner_tags``).
OWNER_TAGS = ("team", "owner", "dagster/owner")

# A check execution's resolved status → passed, or None when it has no result (yet).
CHECK_STATUSES: dict[str, bool | None] = {
    "SUCCEEDED": True,
    "FAILED": False,
    "EXECUTION_FAILED": False,  # the check itself raised: nothing vouches for the asset
    "IN_PROGRESS": None,
    "SKIPPED": None,
}


@dataclass(frozen=True)
class Links:
    """Deep links into the Dagster UI (never with the user-info of the URL configured)."""

    ui: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "ui", strip_userinfo(self.ui))

    def run(self, run_id: str) -> str:
        return f"{self.ui}/runs/{run_id}"

    def job(self, location: str | None, repository: str | None, job: str) -> str:
        if location and repository:
            return f"{self.ui}/locations/{repository}@{location}/jobs/{quote(job)}"
        return f"{self.ui}/jobs"

    def asset(self, path: Sequence[str]) -> str:
        return f"{self.ui}/assets/{'/'.join(quote(p, safe='') for p in path)}"


def seconds(value: Any) -> datetime | None:
    """Dagster's float seconds (runs, steps, checks)."""
    if value is None or isinstance(value, bool):
        return None
    return datetime.fromtimestamp(float(value), UTC)


def millis(value: Any) -> datetime | None:
    """Dagster's milliseconds, a string on materialisation events, a float elsewhere."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    return datetime.fromtimestamp(float(value) / 1000, UTC)


def tags_of(items: Iterable[JSON] | None) -> dict[str, str]:
    return {str(t["key"]): str(t.get("value") or "") for t in items or ()}


def user_tags(tags: Mapping[str, str]) -> tuple[str, ...]:
    """Tags people set, as ``key=value`` (or ``key`` alone); Dagster's own are metadata."""
    return tuple(
        sorted(
            f"{k}={v}" if v else k
            for k, v in tags.items()
            if not k.startswith(("dagster/", ".dagster", "dagster-"))
        )
    )


# -- definitions ----------------------------------------------------------------------------------


def pipelines(
    workspace: JSON, links: Links, owner_tags: Sequence[str] = OWNER_TAGS
) -> tuple[list[PipelineRecord], list[str]]:
    """Jobs of every loaded code location, and a notice per location that failed to load.
    ``owner_tags``: the job tags that name its owners, in order."""
    found: dict[str, PipelineRecord] = {}
    notices: list[str] = []
    for entry in workspace.get("locationEntries") or ():
        location = entry.get("locationOrLoadError") or {}
        if location.get("__typename") == "PythonError":
            first = (location.get("message") or "").strip().splitlines()
            notices.append(
                f"code location {entry.get('name')!r} failed to load: "
                f"{first[0] if first else 'no message'}"
            )
            continue
        for repo in location.get("repositories") or ():
            schedules = repo.get("schedules") or []
            sensors = repo.get("sensors") or []
            for job in repo.get("jobs") or ():
                name = job["name"]
                found[name] = _pipeline(
                    job, location.get("name"), repo, schedules, sensors, links, owner_tags
                )
    return list(found.values()), notices


def _pipeline(
    job: JSON,
    location: str | None,
    repo: JSON,
    schedules: Sequence[JSON],
    sensors: Sequence[JSON],
    links: Links,
    owner_tags: Sequence[str],
) -> PipelineRecord:
    name = job["name"]
    own_schedules = [s for s in schedules if s.get("pipelineName") == name]
    own_sensors = [
        s for s in sensors if any(t.get("pipelineName") == name for t in s.get("targets") or ())
    ]
    running = [s for s in own_schedules if _running(s, "scheduleState")]
    automation = [*own_schedules, *own_sensors]
    paused = None
    if automation:
        paused = not (running or any(_running(s, "sensorState") for s in own_sensors))
    # The schedule that makes runs, else the first stopped one: shown, but not active.
    first = (running or own_schedules or [{}])[0]
    tags = tags_of(job.get("tags"))
    return PipelineRecord(
        external_id=name,
        name=name,
        description=job.get("description"),
        owners=owners_of(tags, owner_tags),
        tags=user_tags(tags),
        schedule=first.get("cronSchedule"),
        schedule_active=bool(running) if own_schedules else None,
        paused=paused,
        ui_url=links.job(location, repo.get("name"), name),
        metadata=_compact(
            {
                "code_location": location,
                "repository": repo.get("name"),
                "asset_job": bool(job.get("isAssetJob")),
                "tags": tags or None,
                "schedules": [
                    {
                        "name": s["name"],
                        "cron": s.get("cronSchedule"),
                        "timezone": s.get("executionTimezone"),
                        "running": _running(s, "scheduleState"),
                    }
                    for s in own_schedules
                ]
                or None,
                "sensors": [
                    {"name": s["name"], "running": _running(s, "sensorState")} for s in own_sensors
                ]
                or None,
            }
        ),
    )


def owners_of(tags: Mapping[str, str], keys: Sequence[str] = OWNER_TAGS) -> tuple[str, ...]:
    """The owners a job's (or run's) tags name, in the order of ``keys``, each once."""
    found: dict[str, None] = {}
    for key in keys:
        value = tags.get(key, "").strip()
        if not value:
            continue
        # A team is spelled as Dagster spells team owners of assets, so one owner filter finds
        # a team's jobs and its assets alike.
        if key.rsplit("/", 1)[-1] == "team" and ":" not in value:
            value = f"team:{value}"
        found[value] = None
    return tuple(found)


def _running(item: JSON, state: str) -> bool:
    return bool((item.get(state) or {}).get("status") == "RUNNING")


def tasks(job: str, snapshot: JSON) -> list[TaskRecord]:
    """The ops of a job's snapshot, each with the ops it takes inputs from."""
    out = []
    for handle in snapshot.get("solidHandles") or ():
        solid = handle.get("solid") or {}
        upstream = sorted(
            {
                dep["solid"]["name"]
                for i in solid.get("inputs") or ()
                for dep in i.get("dependsOn") or ()
                if (dep.get("solid") or {}).get("name")
            }
        )
        out.append(
            TaskRecord(
                pipeline_id=job,
                external_id=handle["handleID"],
                name=handle["handleID"],
                kind=(solid.get("definition") or {}).get("name"),
                upstream=tuple(upstream),
            )
        )
    return out


# -- assets ---------------------------------------------------------------------------------------


def asset(node: JSON, keys: AssetKeys, links: Links) -> AssetRecord:
    path = node["assetKey"]["path"]
    policy = node.get("internalFreshnessPolicy") or {}
    max_age = cron = zone = None
    if policy.get("__typename") == "TimeWindowFreshnessPolicy":
        max_age = _float(policy.get("failWindowSeconds"))
    elif policy.get("__typename") == "CronFreshnessPolicy":
        max_age = _float(policy.get("lowerBoundDeltaSeconds"))
        cron = policy.get("deadlineCron")
        zone = policy.get("timezone") or None
    kinds = sorted(node.get("kinds") or ())
    tags = {k: v for k, v in tags_of(node.get("tags")).items() if not k.startswith("dagster/kind/")}
    checks = (node.get("assetChecksOrError") or {}).get("checks") or []
    repository = node.get("repository") or {}
    return AssetRecord(
        uri=keys.uri(path),
        alias=alias(path),
        alias_reason=keys.reason(path),
        kind=",".join(kinds) or None,
        description=node.get("description"),
        owners=tuple(owner(o) for o in node.get("owners") or () if owner(o)),
        tags=user_tags(tags),
        freshness_max_age_s=max_age,
        freshness_cron=cron if max_age is not None else None,
        freshness_timezone=zone if cron and max_age is not None else None,
        metadata=_compact(
            {
                "dagster_key": list(path),
                "group": node.get("groupName"),
                "kinds": kinds or None,
                # Declared here, computed elsewhere (an external AssetSpec), or only named as
                # another asset's dependency (an auto-created stub).
                "external": not node.get("isExecutable", True) or None,
                "auto_created_stub": bool(node.get("isAutoCreatedStub")) or None,
                "jobs": node.get("jobNames") or None,
                "ops": node.get("opNames") or None,
                "checks": [c["name"] for c in checks] or None,
                "freshness_warn_after_s": _float(policy.get("warnWindowSeconds")),
                "code_location": (repository.get("location") or {}).get("name"),
                "url": links.asset(path),
            }
        ),
    )


def owner(o: JSON) -> str:
    # Dagster stores "team:analytics" and answers "analytics": the prefix comes back.
    if o.get("__typename") == "TeamAssetOwner":
        return f"team:{o['team']}" if o.get("team") else ""
    return str(o.get("email") or "")


def dependency_edges(node: JSON, keys: AssetKeys) -> list[EdgeRecord]:
    down = NodeRef.asset(keys.uri(node["assetKey"]["path"]))
    return [
        EdgeRecord(NodeRef.asset(keys.uri(d["path"])), down)
        for d in node.get("dependencyKeys") or ()
    ]


# -- runs and steps -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Failure:
    """What the run's log says went wrong, read only for runs that failed or retried."""

    steps: Mapping[str, list[str]]  # step key → the error of each failed attempt, in order
    failed: Sequence[str]  # steps whose last attempt failed (not retried), in order
    run: str | None  # the run's own failure, when no step carries it


def error_text(error: JSON | None) -> str | None:
    """The user's exception (``ValueError: no rate for GBP``), not Dagster's wrapper of it."""
    if not error:
        return None
    inner = error.get("cause") or error
    text = (inner.get("message") or "").strip()
    if not text:
        return None
    name = inner.get("className")
    if name and not text.startswith(name) and ":" not in text.split("\n", 1)[0]:
        text = f"{name}: {text}"
    return text


def failure(events: Iterable[JSON]) -> Failure:
    steps: dict[str, list[str]] = {}
    failed: list[str] = []
    run: str | None = None
    for e in events:
        kind = e.get("__typename")
        if kind in ("ExecutionStepFailureEvent", "ExecutionStepUpForRetryEvent"):
            text = error_text(e.get("error"))
            if e.get("stepKey") and text:
                steps.setdefault(e["stepKey"], []).append(text)
            if kind == "ExecutionStepFailureEvent" and e.get("stepKey"):
                failed.append(e["stepKey"])
        elif kind == "RunFailureEvent":
            run = error_text(e.get("error")) or (e.get("message") or "").strip() or None
    return Failure(steps, failed, run)


def trigger(tags: Mapping[str, str]) -> TriggerKind:
    for tag, kind in TRIGGER_TAGS:
        if tag in tags:
            return kind
    return TriggerKind.MANUAL


def run(
    r: JSON, links: Links, why: Failure | None, owner_tags: Sequence[str] = OWNER_TAGS
) -> RunRecord:
    status = states.run_status(r.get("status"))
    tags = tags_of(r.get("tags"))
    error = None
    if why is not None and status.is_failure():
        # The first step that failed for good (a retried one may have succeeded later).
        first = next((k for k in why.failed if why.steps.get(k)), None)
        error = f"{first}: {why.steps[first][-1]}" if first else why.run
    origin = r.get("repositoryOrigin") or {}
    return RunRecord(
        pipeline_id=r["jobName"],
        external_id=r["runId"],
        status=status,
        raw_status=r.get("status"),
        trigger=trigger(tags),
        queued_at=seconds(r.get("creationTime")),
        started_at=seconds(r.get("startTime")),
        ended_at=seconds(r.get("endTime")) if status.is_done() else None,
        parent_run_id=None,
        error=error,
        ui_url=links.run(r["runId"]),
        tags=user_tags(tags),
        # A run carries its job's tags and any it was launched with.
        owners=owners_of(tags, owner_tags),
        metadata=_compact(
            {
                "tags": tags or None,
                "asset_selection": [alias(a["path"]) for a in r.get("assetSelection") or ()]
                or None,
                "code_location": origin.get("repositoryLocationName"),
                "repository": origin.get("repositoryName"),
            }
        ),
        status_at=seconds(r.get("updateTime")),
    )


def step_runs(
    r: JSON, planned: Sequence[str], links: Links, why: Failure | None
) -> list[TaskRunRecord]:
    """A task run per attempt of each step, and one per planned step that never started."""
    run_status = states.run_status(r.get("status"))
    out: list[TaskRunRecord] = []
    seen: set[str] = set()
    for s in r.get("stepStats") or ():
        key = s["stepKey"]
        seen.add(key)
        status = states.step_status(s.get("status"), run_status)
        errors = (why.steps.get(key) if why else None) or []
        base = TaskRunRecord(
            run_id=r["runId"],
            task_id=key,
            status=status,
            raw_status=s.get("status"),
            started_at=seconds(s.get("startTime")),
            ended_at=seconds(s.get("endTime")),
            error=errors[-1] if errors and status.is_failure() else None,
            log_url=links.run(r["runId"]),
        )
        attempts = s.get("attempts") or []
        if len(attempts) < 2:
            out.append(base)
            continue
        # Every attempt but the last failed and was retried.
        for n, a in enumerate(attempts, start=1):
            last = n == len(attempts)
            out.append(
                replace(
                    base,
                    attempt=n,
                    status=status if last else RunStatus.FAILED,
                    raw_status=s.get("status") if last else "UP_FOR_RETRY",
                    started_at=seconds(a.get("startTime")),
                    ended_at=seconds(a.get("endTime")) if not last else base.ended_at,
                    error=base.error if last else (errors[n - 1] if n <= len(errors) else None),
                )
            )
    missing = states.missing_step_status(run_status)
    # A dynamically mapped op runs as steps keyed "op[mapping key]": the op did start.
    seen |= {k.split("[", 1)[0] for k in seen}
    for key in planned:
        if key not in seen:
            out.append(
                TaskRunRecord(
                    run_id=r["runId"],
                    task_id=key,
                    status=missing,
                    raw_status=None,
                    log_url=links.run(r["runId"]),
                )
            )
    return out


# -- materialisations and checks ------------------------------------------------------------------


def metadata_value(entry: JSON) -> Any:
    kind = entry.get("__typename")
    if kind == "IntMetadataEntry":
        # intValue is a 32-bit GraphQL Int, null beyond it; intRepr keeps every digit.
        if entry.get("intValue") is not None:
            return entry["intValue"]
        try:
            return int(entry.get("intRepr") or "")
        except ValueError:
            return entry.get("intRepr")
    if kind == "JsonMetadataEntry":
        try:
            return json.loads(entry.get("jsonString") or "null")
        except ValueError:
            return entry.get("jsonString")
    if kind == "TableSchemaMetadataEntry":
        return [
            _compact(
                {"name": c.get("name"), "type": c.get("type"), "description": c.get("description")}
            )
            for c in (entry.get("schema") or {}).get("columns") or ()
        ]
    if kind == "TableColumnLineageMetadataEntry":
        return {
            d["columnName"]: [
                {"asset": alias(x["assetKey"]["path"]), "column": x["columnName"]}
                for x in d.get("columnDeps") or ()
            ]
            for d in entry.get("lineage") or ()
        }
    if kind == "AssetMetadataEntry":
        return alias((entry.get("assetKey") or {}).get("path") or [])
    for field in ("floatValue", "text", "boolValue", "timestamp", "url", "path", "mdStr"):
        if field in entry:
            return entry[field]
    return None


def materialization(
    m: JSON, path: Sequence[str], job: str | None, keys: AssetKeys
) -> tuple[AssetEventRecord, list[EdgeRecord], list[ColumnLineageRecord]]:
    uri = keys.uri(path)
    at = millis(m.get("timestamp"))
    if at is None:
        raise ValueError(f"materialisation of {alias(path)} has no timestamp")
    entries = {e["label"]: e for e in m.get("metadataEntries") or ()}
    values = {label: metadata_value(e) for label, e in entries.items()}
    rows = values.get(ROW_COUNT)
    run_id = m.get("runId") or None  # "" for a materialisation reported from outside Dagster
    step = m.get("stepKey") or None
    event = AssetEventRecord(
        asset_uri=uri,
        kind=AssetEventKind.PRODUCED,
        at=at,
        run_id=run_id,
        task_id=step if run_id else None,
        row_count=rows if isinstance(rows, int) and not isinstance(rows, bool) else None,
        metadata=_compact(
            {
                "partition": m.get("partition"),
                "reported_from_outside": not run_id or None,
                "metadata": {k: v for k, v in values.items() if k != COLUMN_LINEAGE} or None,
            }
        ),
    )
    edges = []
    if run_id and step and job:
        edges.append(
            EdgeRecord(NodeRef.of_task(job, step), NodeRef.asset(uri), EdgeOrigin.OBSERVED, at)
        )
    lineage = [
        ColumnLineageRecord(
            uri, d["columnName"], keys.uri(x["assetKey"]["path"]), x["columnName"], seen_at=at
        )
        for d in (entries.get(COLUMN_LINEAGE) or {}).get("lineage") or ()
        for x in d.get("columnDeps") or ()
    ]
    return event, edges, lineage


def check_result(
    execution: JSON, path: Sequence[str], check: str, keys: AssetKeys
) -> CheckResultRecord | None:
    passed = CHECK_STATUSES.get(execution.get("status") or "")
    evaluation = execution.get("evaluation") or {}
    if evaluation.get("success") is not None:
        passed = bool(evaluation["success"])
    at = seconds(evaluation.get("timestamp")) or seconds(execution.get("timestamp"))
    if passed is None or at is None:
        return None
    severity = evaluation.get("severity")
    return CheckResultRecord(
        asset_uri=keys.uri(path),
        check_name=check,
        passed=passed,
        at=at,
        severity=severity.lower() if isinstance(severity, str) else None,
        run_id=execution.get("runId") or None,
        external_id=f"{alias(path)}:{check}:{execution['id']}",
        metadata=_compact(
            {
                "status": execution.get("status"),
                "description": evaluation.get("description"),
                "partition": execution.get("partition"),
                "metadata": {
                    e["label"]: metadata_value(e) for e in evaluation.get("metadataEntries") or ()
                }
                or None,
            }
        ),
    )


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _compact(d: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}
