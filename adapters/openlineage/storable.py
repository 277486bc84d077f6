"""What the catalog can store of an event that passed the spec's check.

Identifiers of at most :data:`MAX_NAME_CHARS` characters, keys built from them of at most
:data:`MAX_KEY_BYTES` bytes (PostgreSQL indexes no longer value), attempts and map indexes that fit
the catalog's 32-bit columns. A name the event itself (its job, run, parent and datasets) cannot
be stored under refuses the event; a name inside another facet flags that facet, which is then
kept as sent and not read (see :class:`adapters.openlineage.spec.FacetProblems`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from functools import partial
from typing import Any

from openlineage.client.generated import base

from adapters.openlineage import spec
from adapters.openlineage.names import (
    INT32_MAX,
    INT32_MIN,
    MAX_KEY_BYTES,
    MAX_NAME_CHARS,
    assertion_name,
    carries_password,
    check_key,
    dataset_uri,
    event_key,
    is_int,
    job_key,
    tag_text,
    task_instance,
)
from adapters.openlineage.spec import FacetProblems, SpecError
from catalog.enums import AssetEventKind
from catalog.identity import canonical

__all__ = ["check_storable"]


def check_storable(event: Mapping[str, Any], problems: FacetProblems) -> None:
    """Raise :class:`SpecError` for an identifier, key or number of the event itself the catalog
    could not store; flag in ``problems`` a facet whose names it could not store."""
    if spec.event_class(event) is base.DatasetEvent:
        _dataset_keys(event["dataset"], "dataset", None, problems)
        return
    job = event["job"]
    _job_key(job, "job")
    _soft_facets(problems, job.get("facets"), "job.facets", _JOB_FACET_NAMES)
    run = event.get("run")
    run_id: str | None = None
    uris: list[str] = []
    if run is not None:
        run_id = run["runId"]
        _name(run["runId"], "run.runId")
        _key(run["runId"], "run.runId", "the run id")
        facets = run.get("facets") or {}
        parent = facets.get("parent")
        if parent is not None:
            where = "run.facets.parent"
            _job_key(parent["job"], f"{where}.job")
            _name(parent["run"]["runId"], f"{where}.run.runId")
            _key(parent["run"]["runId"], f"{where}.run.runId", "the run id")
        ti = task_instance(facets)
        for field in ("try_number", "map_index"):
            value = ti.get(field)
            if is_int(value) and not INT32_MIN <= value <= INT32_MAX:
                raise SpecError(
                    f"run.facets.airflow.taskInstance.{field}",
                    f"{value} is out of range (the catalog keeps it in 32 bits: "
                    f"{INT32_MIN}..{INT32_MAX})",
                )
        _soft_facets(problems, facets, "run.facets", _RUN_FACET_NAMES)
    for side in ("inputs", "outputs"):
        for i, d in enumerate(event.get(side) or ()):
            uris.append(_dataset_keys(d, f"{side}[{i}]", run_id, problems))
    if run_id is not None and "run.facets.test" not in problems:
        tests = ((run or {}).get("facets") or {}).get("test") or {}
        _soft(problems, "run.facets.test", partial(_tests, tests, run_id, uris))


def _soft(problems: FacetProblems, facet: str, check: Callable[[], None]) -> None:
    try:
        check()
    except SpecError as exc:
        problems.add(facet, exc)


def _soft_facets(
    problems: FacetProblems,
    facets: Mapping[str, Any] | None,
    where: str,
    checks: Mapping[str, Callable[[Mapping[str, Any], str], None]],
) -> None:
    for name, check in checks.items():
        facet = (facets or {}).get(name)
        path = f"{where}.{name}"
        if isinstance(facet, dict) and path not in problems:
            _soft(problems, path, partial(check, facet, path))


def _owners(facet: Mapping[str, Any], where: str) -> None:
    for i, owner in enumerate(facet.get("owners") or ()):
        _name(owner["name"], f"{where}.owners[{i}].name")
        _key(owner["name"], f"{where}.owners[{i}].name", "an owner's name")


def _tags(facet: Mapping[str, Any], where: str) -> None:
    for i, tag in enumerate(facet.get("tags") or ()):
        _key(tag_text(tag), f"{where}.tags[{i}]", "a tag (key=value)")


def _dependencies(facet: Mapping[str, Any], where: str) -> None:
    for side in ("upstream", "downstream"):
        for i, dependency in enumerate(facet.get(side) or ()):
            _job_key(dependency["job"], f"{where}.{side}[{i}].job")


_JOB_FACET_NAMES = {"ownership": _owners, "tags": _tags}
_RUN_FACET_NAMES = {"tags": _tags, "jobDependencies": _dependencies}
_DATASET_FACET_NAMES = {"ownership": _owners, "tags": _tags}


def _tests(facet: Mapping[str, Any], run_id: str, uris: Iterable[str]) -> None:
    for i, test in enumerate(facet.get("tests") or ()):
        at = f"run.facets.test.tests[{i}].name"
        _name(test["name"], at)
        for uri in uris:
            _key(check_key(run_id, uri, test["name"]), at, "the key of its check result")


def _job_key(job: Mapping[str, Any], where: str) -> None:
    _name(job["namespace"], f"{where}.namespace")
    _name(job["name"], f"{where}.name")
    _key(job_key(job["namespace"], job["name"]), where, "its identity (namespace:name)")


def _dataset_keys(
    d: Mapping[str, Any], where: str, run_id: str | None, problems: FacetProblems
) -> str:
    uri = _dataset_uri(d, where)
    if run_id is not None:
        # Asset events are keyed by run, kind and dataset (see the mapping).
        key = event_key(run_id, AssetEventKind.CONSUMED, uri)
        _key(key, where, "the key of its asset event (run.runId|kind|namespace/name)")
        for holder in ("inputFacets", "outputFacets", "facets"):
            path = f"{where}.{holder}.dataQualityAssertions"
            facet = (d.get(holder) or {}).get("dataQualityAssertions")
            if isinstance(facet, dict) and path not in problems:
                _soft(problems, path, partial(_assertions, facet, path, run_id, uri))
    facets = d.get("facets") or {}
    _soft_facets(problems, facets, f"{where}.facets", _DATASET_FACET_NAMES)
    path = f"{where}.facets.symlinks"
    if path not in problems:
        _soft(problems, path, partial(_symlinks, facets, path))
    path = f"{where}.facets.columnLineage"
    if path not in problems:
        _soft(problems, path, partial(_column_lineage, facets, path))
    return uri


def _assertions(facet: Mapping[str, Any], where: str, run_id: str, uri: str) -> None:
    for j, a in enumerate(facet.get("assertions") or ()):
        at = f"{where}.assertions[{j}]"
        _name(a["assertion"], f"{at}.assertion")
        for field in ("column", "name"):
            if isinstance(a.get(field), str):
                _name(a[field], f"{at}.{field}")
        key = check_key(run_id, uri, assertion_name(a))
        _key(key, at, "the key of its check result (run.runId|namespace/name|assertion)")


def _symlinks(facets: Mapping[str, Any], where: str) -> None:
    for j, s in enumerate((facets.get("symlinks") or {}).get("identifiers") or ()):
        _dataset_uri(s, f"{where}.identifiers[{j}]")


def _column_lineage(facets: Mapping[str, Any], where: str) -> None:
    fields = (facets.get("columnLineage") or {}).get("fields") or {}
    for column, lineage in fields.items():
        at = f"{where}.fields"
        _name(column, f"{at} (a column's name)")
        for k, f in enumerate(lineage.get("inputFields") or ()):
            source = f"{at}.{column if len(column) <= 64 else column[:61] + '...'}.inputFields[{k}]"
            _dataset_uri(f, source)
            _name(f["field"], f"{source}.field")
            # Both columns are in one index, with the two assets' ids.
            _key(column + f["field"], source, "this column and its input field together")


def _dataset_uri(d: Mapping[str, Any], where: str) -> str:
    _name(d["namespace"], f"{where}.namespace")
    if carries_password(d["namespace"]):
        raise SpecError(
            f"{where}.namespace",
            "carries a password: OpenLineage dataset naming leaves credentials out, and the "
            "catalog never stores one",
        )
    _name(d["name"], f"{where}.name")
    uri = dataset_uri(d["namespace"], d["name"])
    for spelling in (uri, canonical(uri)):  # the catalog keeps both: identity and alias
        _key(spelling, where, "its identity (namespace + name)")
    return uri


def _name(text: str, where: str) -> None:
    if len(text) > MAX_NAME_CHARS:
        raise SpecError(where, f"{len(text)} characters, more than the {MAX_NAME_CHARS} allowed")


def _key(text: str, where: str, what: str) -> None:
    size = len(text.encode("utf-8"))
    if size > MAX_KEY_BYTES:
        raise SpecError(
            where,
            f"{what} is {size} bytes in UTF-8, more than the {MAX_KEY_BYTES} the catalog can key",
        )
