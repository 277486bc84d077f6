"""OpenLineage: events that producers push (Airflow, Spark, Flink, dbt, any client) as batches.

Push-only: :meth:`OpenLineageAdapter.fetch` yields nothing, since events arrive at the API's
``POST /api/v1/lineage`` (or ``tempox ingest openlineage``), which checks them with
:func:`check_event` and writes :func:`events_to_batch` of them. The adapter is registered so that
a ``[sources.<name>] kind = "openlineage"`` table names where pushed events are filed.

The mapping into the unified model:

- a job with a ``parent`` run facet is a task of its parent job's pipeline and its run a task run
  of the parent run (an Airflow task of its DAG run, a Spark action of its application); any
  other job is a pipeline and its run a run. The first event of a run decides which (the intake
  remembers it by run id), since producers send ``parent`` on START only;
- START and RUNNING are running, COMPLETE success, FAIL failed, ABORT cancelled; the event time
  is when that status was observed, so a late START never undoes a COMPLETE (the store's rule);
- datasets are assets named ``namespace`` + ``name`` (OpenLineage naming), ``symlinks`` are their
  aliases (reason ``symlink``: a reference by one is the asset); inputs and outputs are observed
  lineage edges through the job, and, on a COMPLETE, consumed and produced asset events (row
  counts on them); ``columnLineage`` is stored column lineage; ``DataQualityMetrics.lastUpdated``
  is an observed asset event at that time;
- ``dataQualityAssertions`` (on any event of a run: dbt-ol reports failing tests on FAIL) and the
  ``test`` run facet's outcomes are check results; ``jobDependencies`` are declared edges between
  jobs;
- ownership, documentation, tags, ``datasetType`` and ``jobType.processingType`` describe
  pipelines and assets (what an event does not state, an earlier one did);
- every facet, known or custom, is kept as JSON under ``meta["openlineage"]``.

:func:`check_event` is the spec's check (:mod:`adapters.openlineage.spec`) and then what the
catalog can store (:mod:`adapters.openlineage.storable`). A facet that fails either is kept as
sent, not read, and named in :attr:`Checked.warnings`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from openlineage.client.generated import base

from adapters.openlineage import spec
from adapters.openlineage.facets import Facets
from adapters.openlineage.mapping import Mapper, run_identity
from adapters.openlineage.names import (
    INT32_MAX,
    INT32_MIN,
    MAX_KEY_BYTES,
    MAX_NAME_CHARS,
    dataset_uri,
    job_key,
)
from adapters.openlineage.spec import FacetProblems, SpecError, parse_time
from adapters.openlineage.storable import check_storable
from catalog.adapter import Adapter, AdapterConfig
from catalog.records import JSON, Batch, Cursor, ReceivedEvent

__all__ = [
    "INT32_MAX",
    "INT32_MIN",
    "MAX_KEY_BYTES",
    "MAX_NAME_CHARS",
    "Checked",
    "OpenLineageAdapter",
    "OpenLineageConfig",
    "SpecError",
    "check_event",
    "dataset_uri",
    "event_time",
    "events_to_batch",
    "job_key",
    "received",
    "run_identity",
]


class OpenLineageConfig(AdapterConfig):
    """No keys: events are pushed to the API, nothing is fetched."""


class OpenLineageAdapter(Adapter[OpenLineageConfig]):
    kind: ClassVar[str] = "openlineage"
    config_class: ClassVar[type[AdapterConfig]] = OpenLineageConfig

    def fetch(self, cursor: Cursor | None) -> Iterator[Batch]:
        return iter(())  # push-only: events arrive through the API


@dataclass(frozen=True, slots=True)
class Checked:
    """An event that may be stored, and the facets of it that are kept but not read."""

    event: Mapping[str, Any]
    kind: type[base.BaseEvent]
    problems: Mapping[str, SpecError] = field(default_factory=dict)

    @property
    def warnings(self) -> tuple[str, ...]:
        """One line per facet kept as sent and not read, naming the field at fault."""
        return tuple(
            f"{error} (the facet {path} is kept as sent, not read)"
            for path, error in self.problems.items()
        )


def check_event(event: object) -> Checked:
    """Raise :class:`SpecError` unless ``event`` is a valid event the catalog can store.

    A facet that breaks the spec, or names what the catalog could not store, does not refuse
    the event: it is listed in :attr:`Checked.problems` and not read.
    """
    problems = FacetProblems()
    kind = spec.check_event(event, problems)
    assert isinstance(event, dict)  # the spec's check refuses anything else
    check_storable(event, problems)
    return Checked(event, kind, dict(problems))


def event_time(text: str) -> datetime:
    """An event's time in UTC: nanoseconds are cut to microseconds, no zone means UTC."""
    return parse_time(text)


def events_to_batch(
    events: Iterable[Mapping[str, Any] | Checked],
    cursor: Cursor | None = None,
    runs: Mapping[str, JSON] | None = None,
    earlier: Mapping[str, Sequence[JSON]] | None = None,
) -> Batch:
    """The records of valid events, ready for one write (an event that is not yet
    :class:`Checked` is checked here). ``runs`` are run identities decided before, by run id
    (see :func:`run_identity`); a run not in it is decided by its first event here. ``earlier``
    are the events of runs stored before, by run id, oldest first."""
    m = Mapper(runs, earlier)
    for event in events:
        checked = event if isinstance(event, Checked) else check_event(event)
        m.add(checked.event, Facets(frozenset(checked.problems)))
    return m.batch(cursor or {})


def received(checked: Checked) -> ReceivedEvent:
    """The event as the store keeps it. Its identity, as Marquez's: the run, the event type and
    the event time; an event without a run stands for its job or dataset."""
    event = checked.event
    if "run" in event:
        key = event["run"]["runId"]
    elif checked.kind is base.DatasetEvent:
        key = "dataset:" + dataset_uri(event["dataset"]["namespace"], event["dataset"]["name"])
    else:
        key = "job:" + job_key(event["job"]["namespace"], event["job"]["name"])
    return ReceivedEvent(
        run_key=key,
        event_type=str(event.get("eventType") or ""),
        event_time=parse_time(event["eventTime"]),
        payload=event,
        warnings=checked.warnings,
        run_id=event["run"]["runId"] if "run" in event else None,
        run_identity=run_identity(event),
        history=event.get("eventType") == "COMPLETE",
    )
