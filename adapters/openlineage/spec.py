"""Checking a decoded OpenLineage event against the spec, as openlineage-python models it.

The official client's generated classes (``openlineage.client.generated``) carry the spec's
fields, their types, which are required, its enums and its value checks. Rather than build those
objects (they would drop what they do not model), this walks the JSON beside the class and reports
the first field that breaks the spec, by its path. Unknown keys and custom facets are allowed, as
the spec allows them. Facets the intake reads are checked against their own generated classes.

A facet that breaks the spec does not refuse its event (producers send incomplete facets: a
``dataQualityMetrics`` without ``columnMetrics``): its problem goes to :class:`FacetProblems` and
the facet is kept as sent but not read. Two facets refuse the event, as a broken field of the
event itself does, and as Marquez refuses it: ``parent``, which decides which run an event
belongs to, and a dataset's ``schema``, which says what the dataset is.

Beyond the spec, what the catalog could not store is refused here too: an integer the spec types
as one must fit in 64 bits (a Java ``long``, as Marquez reads them), and a time the intake reads
(``eventTime``, ``nominalTime``) must parse and, in UTC, fall between :data:`MIN_TIME` and
:data:`MAX_TIME`.
"""

from __future__ import annotations

import enum
import re
import types
import typing
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import attr
from openlineage.client.generated import (
    base,
    column_lineage_dataset,
    data_quality_assertions_dataset,
    data_quality_metrics_dataset,
    data_quality_metrics_input_dataset,
    dataset_type_dataset,
    documentation_dataset,
    documentation_job,
    error_message_run,
    job_dependencies_run,
    job_type_job,
    nominal_time_run,
    output_statistics_output_dataset,
    ownership_dataset,
    ownership_job,
    parent_run,
    processing_engine_run,
    schema_dataset,
    symlinks_dataset,
    tags_dataset,
    tags_job,
    tags_run,
    test_run,
)

__all__ = [
    "INT64_MAX",
    "INT64_MIN",
    "MAX_TIME",
    "MIN_TIME",
    "FacetProblems",
    "SpecError",
    "check_event",
    "event_class",
    "parse_time",
]

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
# A day inside Python's (and so the catalog's) range at either end: a time read back in any
# session time zone, or moved by a day, still exists.
MIN_TIME = datetime(1, 1, 1, tzinfo=UTC) + timedelta(days=1)
MAX_TIME = datetime(9999, 12, 31, tzinfo=UTC) - timedelta(microseconds=1)
_MAX_PROBLEM = 300
_FRACTION = re.compile(r"(\.\d{6})\d+")
_DATE_TIME = re.compile(r"\s*[+-]?\d{4,}-\d{2}-\d{2}[Tt ]\d{2}")

# Marquez accepts any run id (it derives a UUID from one that is not), and so do real producers
# (the corpus' simple_run_event sends "run_id"): the client's UUID check is not applied.
_SKIPPED_CHECKS = frozenset(
    {
        (base.Run, "runId"),
        (parent_run.Run, "runId"),
        (job_dependencies_run.RunIdentifier, "runId"),
    }
)
# Times the intake reads, so they must be times the catalog can store (see parse_time).
_TIME_FIELDS = frozenset(
    {
        (base.BaseEvent, "eventTime"),
        (nominal_time_run.NominalTimeRunFacet, "nominalStartTime"),
        (nominal_time_run.NominalTimeRunFacet, "nominalEndTime"),
        (data_quality_metrics_dataset.DataQualityMetricsDatasetFacet, "lastUpdated"),
        (data_quality_metrics_input_dataset.DataQualityMetricsInputDatasetFacet, "lastUpdated"),
    }
)
# Facets that, broken, refuse the event (see the module's docstring).
_REFUSING_FACETS = ("run.facets.parent",)
_REFUSING_DATASET_FACETS = (".facets.schema",)

_RUN_FACETS: Mapping[str, type[Any]] = {
    "parent": parent_run.ParentRunFacet,
    "errorMessage": error_message_run.ErrorMessageRunFacet,
    "nominalTime": nominal_time_run.NominalTimeRunFacet,
    "processing_engine": processing_engine_run.ProcessingEngineRunFacet,
    "tags": tags_run.TagsRunFacet,
    "test": test_run.TestRunFacet,
    "jobDependencies": job_dependencies_run.JobDependenciesRunFacet,
}
_JOB_FACETS: Mapping[str, type[Any]] = {
    "jobType": job_type_job.JobTypeJobFacet,
    "ownership": ownership_job.OwnershipJobFacet,
    "documentation": documentation_job.DocumentationJobFacet,
    "tags": tags_job.TagsJobFacet,
}
_DATASET_FACETS: Mapping[str, type[Any]] = {
    "columnLineage": column_lineage_dataset.ColumnLineageDatasetFacet,
    "symlinks": symlinks_dataset.SymlinksDatasetFacet,
    "ownership": ownership_dataset.OwnershipDatasetFacet,
    "documentation": documentation_dataset.DocumentationDatasetFacet,
    "datasetType": dataset_type_dataset.DatasetTypeDatasetFacet,
    "tags": tags_dataset.TagsDatasetFacet,
    "dataQualityMetrics": data_quality_metrics_dataset.DataQualityMetricsDatasetFacet,
    "schema": schema_dataset.SchemaDatasetFacet,
    # dbt-ol sends the assertions both as an input facet and as a dataset facet.
    "dataQualityAssertions": data_quality_assertions_dataset.DataQualityAssertionsDatasetFacet,
}
_INPUT_FACETS: Mapping[str, type[Any]] = {
    "dataQualityMetrics": data_quality_metrics_input_dataset.DataQualityMetricsInputDatasetFacet,
    "dataQualityAssertions": data_quality_assertions_dataset.DataQualityAssertionsDatasetFacet,
}
_OUTPUT_FACETS: Mapping[str, type[Any]] = {
    "outputStatistics": output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet,
}


class SpecError(ValueError):
    """An event that breaks the spec: ``path`` is the field (``run.runId``), then the problem."""

    def __init__(self, path: str, problem: str) -> None:
        if len(problem) > _MAX_PROBLEM:  # a parser's message may quote a megabyte of input
            problem = problem[: _MAX_PROBLEM - 3] + "..."
        super().__init__(f"{path}: {problem}" if path else problem)
        self.path = path
        self.problem = problem


class FacetProblems(dict[str, SpecError]):
    """Facets that break the spec, by their path (``inputs[0].inputFacets.dataQualityMetrics``):
    kept as sent, never read."""

    def add(self, facet_path: str, error: SpecError) -> None:
        self.setdefault(facet_path, error)


def check_event(event: object, problems: FacetProblems | None = None) -> type[base.BaseEvent]:
    """Raise :class:`SpecError` unless ``event`` is a valid Run, Dataset or Job event.

    Returns the event's class. An event with ``run`` is a RunEvent, one with ``dataset`` a
    DatasetEvent, any other a JobEvent (the spec tells them apart by shape, not by a tag). A
    facet that breaks the spec goes to ``problems`` (refused when None).
    """
    if not isinstance(event, dict):
        raise SpecError("", f"an event is a JSON object, not {_kind(event)}")
    cls = event_class(event)
    _check(event, cls, "", problems)
    return cls


def event_class(event: Mapping[str, Any]) -> type[base.BaseEvent]:
    """RunEvent, DatasetEvent or JobEvent, by shape: what every reader of an event must go by
    (a RunEvent may carry a stray ``dataset`` key, which the spec lets it, and a JobEvent an
    ``eventType``, which Marquez accepts)."""
    if "run" in event:
        return base.RunEvent
    if "dataset" in event:
        return base.DatasetEvent
    return base.JobEvent


def _check(value: Any, tp: Any, path: str, problems: FacetProblems | None = None) -> None:
    origin = typing.get_origin(tp)
    if tp is Any or tp is object:
        return
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(tp)
        if value is None and type(None) in options:
            return
        real = [o for o in options if o is not type(None)]
        if len(real) == 1:
            _check(value, real[0], path, problems)
            return
        for option in real:
            try:
                _check(value, option, path)
            except SpecError:
                continue
            return
        raise SpecError(path, f"{_show(value)} is not any of the allowed types")
    if value is None:
        raise SpecError(path, f"must not be null (expected {_name(tp)})")
    if origin is dict:
        if not isinstance(value, dict):
            raise SpecError(path, f"expected an object, got {_kind(value)}")
        _, item = typing.get_args(tp)
        facets = _is_facets(path)
        for k, v in value.items():
            where = _join(path, k)
            if not facets or problems is None or _refuses(where):
                _check(v, _facet_class(path, k) or item, where, problems)
                continue
            try:
                _check(v, _facet_class(path, k) or item, where)
            except SpecError as exc:
                problems.add(where, exc)
        return
    if origin is list:
        if not isinstance(value, list):
            raise SpecError(path, f"expected an array, got {_kind(value)}")
        (item,) = typing.get_args(tp)
        for i, v in enumerate(value):
            _check(v, item, f"{path}[{i}]", problems)
        return
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        allowed = [m.value for m in tp]
        if value not in allowed:
            raise SpecError(path, f"{_show(value)} is not one of {', '.join(map(str, allowed))}")
        return
    if isinstance(tp, type) and attr.has(tp):
        _check_object(value, tp, path, problems)
        return
    if tp is bool:
        ok = isinstance(value, bool)
    elif tp is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
        if ok and not INT64_MIN <= value <= INT64_MAX:
            raise SpecError(path, f"{_show(value)} is out of range (integers must fit in 64 bits)")
    elif tp is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    elif tp is str:
        ok = isinstance(value, str)
    else:
        ok = True  # a type the generated classes do not use today: nothing to check
    if not ok:
        raise SpecError(path, f"expected {_name(tp)}, got {_kind(value)} {_show(value)}")


def _check_object(
    value: Any, cls: type[Any], path: str, problems: FacetProblems | None = None
) -> None:
    if not isinstance(value, dict):
        raise SpecError(path, f"expected an object ({cls.__name__}), got {_kind(value)}")
    hints = _hints(cls)
    for field in attr.fields(cls):
        where = _join(path, field.name)
        if field.name not in value:
            if field.default is attr.NOTHING and field.init:
                raise SpecError(where, "required field is missing")
            continue
        item = value[field.name]
        _check(item, hints[field.name], where, problems)
        if (
            field.validator is not None
            and item is not None
            and not _is(cls, field.name, _SKIPPED_CHECKS)
        ):
            try:
                field.validator(None, field, item)
            except Exception as exc:  # the spec's own checks raise ValueError and friends
                raise SpecError(where, f"{_show(item)} is invalid: {exc}") from None
        if isinstance(item, str) and _is(cls, field.name, _TIME_FIELDS):
            try:
                parse_time(item)
            except ValueError as exc:
                problem = f"{_show(item)} is not a time the catalog can store: {exc}"
                raise SpecError(where, problem) from None


def _is(cls: type[Any], name: str, fields: frozenset[tuple[type[Any], str]]) -> bool:
    return any((c, name) in fields for c in cls.__mro__)


def parse_time(text: str) -> datetime:
    """A time as the intake reads it: ISO 8601, nanoseconds cut to microseconds, no zone
    meaning UTC; returned in UTC. ``ValueError`` unless it has a time of day (the spec's
    ``date-time``; a date alone is not one) and lies in ``MIN_TIME..MAX_TIME``."""
    if not _DATE_TIME.match(text):
        raise ValueError("it has no time of day (the spec's date-time needs a date and a time)")
    try:
        parsed = datetime.fromisoformat(_FRACTION.sub(r"\1", text.strip()))
        utc = parsed.astimezone(UTC) if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
    except OverflowError:
        utc = None
    if utc is None or not MIN_TIME <= utc <= MAX_TIME:
        raise ValueError(
            f"out of range: in UTC it must fall between {MIN_TIME.isoformat()} and "
            f"{MAX_TIME.isoformat()}"
        )
    return utc


_HINTS: dict[type[Any], dict[str, Any]] = {}


def _hints(cls: type[Any]) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def _refuses(facet_path: str) -> bool:
    return facet_path in _REFUSING_FACETS or (
        facet_path.endswith(_REFUSING_DATASET_FACETS)
        and facet_path.startswith(("inputs[", "outputs[", "dataset."))
    )


def _is_facets(path: str) -> bool:
    """Whether ``path`` is an object of facets (``run.facets``, ``inputs[0].inputFacets``)."""
    return path.endswith((".facets", ".inputFacets", ".outputFacets"))


def _facet_class(path: str, name: str) -> type[Any] | None:
    if path == "run.facets":
        return _RUN_FACETS.get(name)
    if path == "job.facets":
        return _JOB_FACETS.get(name)
    if path.endswith(".inputFacets"):
        return _INPUT_FACETS.get(name)
    if path.endswith(".outputFacets"):
        return _OUTPUT_FACETS.get(name)
    if path.endswith(".facets") and (path.startswith(("inputs[", "outputs[", "dataset."))):
        return _DATASET_FACETS.get(name)
    return None


def _join(path: str, key: str) -> str:
    if len(key) > 64:  # a path names a field; a megabyte of key would drown the message
        key = key[:61] + "..."
    return f"{path}.{key}" if path else key


def _name(tp: Any) -> str:
    return {str: "a string", int: "an integer", float: "a number", bool: "a boolean"}.get(
        tp, getattr(tp, "__name__", str(tp))
    )


def _kind(value: object) -> str:
    if value is None:
        return "null"
    return {
        dict: "an object",
        list: "an array",
        str: "a string",
        bool: "a boolean",
        int: "an integer",
        float: "a number",
    }.get(type(value), type(value).__name__)


def _show(value: object) -> str:
    try:
        text = repr(value)
    except ValueError:  # an integer of more digits than Python prints
        return f"{_kind(value)} of {value.bit_length()} bits" if isinstance(value, int) else "?"
    return text if len(text) <= 60 else text[:57] + "..."
