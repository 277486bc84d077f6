"""Query filters: plain values the API builds from its inputs and the store turns into SQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from catalog.enums import RunStatus, TriggerKind
from catalog.errors import InvalidArgument


def check_aware(name: str, value: datetime | None) -> None:
    if value is not None and value.tzinfo is None:
        raise InvalidArgument(name, "needs a time zone (e.g. 2026-11-01T00:00:00Z)")


def check_window(
    since: datetime | None,
    until: datetime | None,
    *,
    prefix: str = "",
    names: tuple[str, str] = ("since", "until"),
) -> None:
    first, last = (f"{prefix}{n}" for n in names)
    check_aware(first, since)
    check_aware(last, until)
    if since is not None and until is not None and since > until:
        raise InvalidArgument(first, f"is after {last} ({since} > {until})")


@dataclass(frozen=True, slots=True)
class RunFilter:
    statuses: tuple[RunStatus, ...] = ()
    triggers: tuple[TriggerKind, ...] = ()
    sources: tuple[str, ...] = ()  # source names
    pipeline_ids: tuple[int, ...] = ()
    owner: str | None = None  # an owner of the run or of its pipeline
    tag: str | None = None  # a tag of the run or of its pipeline
    since: datetime | None = None  # on when the run happened (start, else queue, else logical)
    until: datetime | None = None  # exclusive

    def __post_init__(self) -> None:
        check_window(self.since, self.until, prefix="filter.")


@dataclass(frozen=True, slots=True)
class PipelineFilter:
    sources: tuple[str, ...] = ()
    owner: str | None = None
    tag: str | None = None
    search: str | None = None  # part of the name or external id, case-insensitive


@dataclass(frozen=True, slots=True)
class AssetFilter:
    owner: str | None = None
    tag: str | None = None
    uri_prefix: str | None = None
    search: str | None = None


class Direction(StrEnum):
    UPSTREAM = "upstream"
    DOWNSTREAM = "downstream"
    BOTH = "both"
