"""``[alerts]``: destinations, rules and silences, validated like every other section.

```toml
[[alerts.destinations]]
name = "ops"
kind = "webhook"            # slack | pagerduty | webhook | alertmanager
url = "http://127.0.0.1:9999/hook"
[[alerts.rules]]
name = "any-failure"
when = "run_failed"         # run_failed | asset_stale | sync_failing | task_slower | check_failed
notify = ["ops"]
```
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from fnmatch import fnmatchcase
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, model_validator

from catalog.settings_sections import Section
from catalog.settings_types import Duration, HttpUrl

__all__ = [
    "PAGERDUTY_URL",
    "AlertSettings",
    "DestinationKind",
    "DestinationSettings",
    "RuleKind",
    "RuleSettings",
    "SilenceSettings",
]

PAGERDUTY_URL = "https://events.pagerduty.com/v2/enqueue"
Severity = Literal["critical", "error", "warning", "info"]
_ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"


class RuleKind(StrEnum):
    RUN_FAILED = "run_failed"
    ASSET_STALE = "asset_stale"
    SYNC_FAILING = "sync_failing"
    TASK_SLOWER = "task_slower"
    CHECK_FAILED = "check_failed"


class DestinationKind(StrEnum):
    SLACK = "slack"
    PAGERDUTY = "pagerduty"
    WEBHOOK = "webhook"
    ALERTMANAGER = "alertmanager"


def _patterns(value: object) -> object:
    """A filter is one glob or a list of them."""
    return (value,) if isinstance(value, str) else value


Patterns = Annotated[tuple[Annotated[str, Field(min_length=1)], ...], BeforeValidator(_patterns)]


def matches(patterns: tuple[str, ...], values: tuple[str, ...] | list[str] | str | None) -> bool:
    """No patterns: anything matches; else one of ``values`` matches one glob."""
    if not patterns:
        return True
    if values is None:
        return False
    found = (values,) if isinstance(values, str) else tuple(values)
    return any(fnmatchcase(v, p) for p in patterns for v in found)


class DestinationSettings(Section):
    """One ``[[alerts.destinations]]``. Secrets come from environment variables (``*_env``)."""

    name: str = Field(min_length=1, max_length=200)
    kind: DestinationKind
    url: HttpUrl | None = None  # webhook, slack, alertmanager (its base URL); pagerduty's API
    url_env: str | None = Field(default=None, pattern=_ENV_NAME)  # a URL that is a secret
    routing_key_env: str | None = Field(default=None, pattern=_ENV_NAME)  # pagerduty
    secret_env: str | None = Field(default=None, pattern=_ENV_NAME)  # webhook HMAC-SHA256 key
    timeout: Duration = timedelta(seconds=10)

    @model_validator(mode="after")
    def _complete(self) -> DestinationSettings:
        kind = self.kind
        if kind is DestinationKind.PAGERDUTY:
            if self.routing_key_env is None:
                raise ValueError("a pagerduty destination needs routing_key_env")
        elif (self.url is None) == (self.url_env is None):
            raise ValueError(f"a {kind} destination needs url or url_env (one of them)")
        if self.routing_key_env is not None and kind is not DestinationKind.PAGERDUTY:
            raise ValueError("routing_key_env is for pagerduty destinations")
        if self.secret_env is not None and kind is not DestinationKind.WEBHOOK:
            raise ValueError("secret_env is for webhook destinations")
        return self

    @property
    def target(self) -> str | None:
        """The configured URL (None: read from ``url_env`` when sending)."""
        if self.kind is DestinationKind.PAGERDUTY and self.url is None and self.url_env is None:
            return PAGERDUTY_URL
        return self.url


# The keys each kind of rule understands beyond the common ones.
_KIND_KEYS: dict[RuleKind, frozenset[str]] = {
    RuleKind.RUN_FAILED: frozenset({"source", "tool", "pipeline", "owner", "tag", "times"}),
    RuleKind.ASSET_STALE: frozenset({"asset", "owner", "tag"}),
    RuleKind.SYNC_FAILING: frozenset({"source", "tool", "times", "for_"}),
    RuleKind.TASK_SLOWER: frozenset(
        {"source", "tool", "pipeline", "owner", "tag", "recent", "baseline", "min_ratio"}
    ),
    RuleKind.CHECK_FAILED: frozenset({"asset", "owner", "tag", "check"}),
}
_FILTERS = frozenset({"source", "tool", "pipeline", "owner", "tag", "asset", "check"})


class RuleSettings(Section):
    """One ``[[alerts.rules]]``: ``when`` something happens, ``notify`` these destinations."""

    name: str = Field(min_length=1, max_length=200)
    when: RuleKind
    notify: tuple[str, ...] = ()
    severity: Severity = "error"
    # Filters: a glob or a list of globs, matched against the pipeline's (or asset's) source
    # name, tool (the source's kind), name or external id, owners and tags.
    source: Patterns = ()
    tool: Patterns = ()
    pipeline: Patterns = ()
    owner: Patterns = ()
    tag: Patterns = ()
    asset: Patterns = ()
    check: Patterns = ()
    times: int | None = Field(default=None, ge=1, le=1000)  # N in a row
    for_: Duration | None = Field(default=None, alias="for")  # sync_failing: no success for
    recent: int = Field(default=5, ge=1, le=1000)  # task_slower (the slowerTasks rule)
    baseline: int = Field(default=20, ge=1, le=1000)
    min_ratio: float = Field(default=1.2, gt=0)
    # What happened before the rule existed is history, not news; but this much of it counts.
    lookback: Duration | None = None
    repeat: Duration | None = None  # notify again while it keeps firing

    @model_validator(mode="before")
    @classmethod
    def _kind_keys(cls, data: object) -> object:
        if not isinstance(data, dict):
            return data
        try:
            kind = RuleKind(str(data.get("when")))
        except ValueError:
            return data  # the field's own error names the kinds
        allowed = _KIND_KEYS[kind]
        defaults = {"recent", "baseline", "min_ratio", "times"}
        for key in data:
            field = "for_" if key == "for" else key
            if (field in _FILTERS or field in defaults or field == "for_") and field not in allowed:
                raise ValueError(f"{key!r} does not apply to {kind.value} rules")
        return data

    @property
    def filters(self) -> dict[str, tuple[str, ...]]:
        return {
            k: getattr(self, k)
            for k in ("source", "tool", "pipeline", "owner", "tag", "asset", "check")
            if getattr(self, k)
        }


class SilenceSettings(Section):
    """One ``[[alerts.silences]]``: matching alerts are recorded but nobody is notified."""

    rule: Patterns = ()
    source: Patterns = ()
    pipeline: Patterns = ()
    asset: Patterns = ()
    starts: datetime | None = None
    ends: datetime | None = None
    comment: str | None = None

    @model_validator(mode="after")
    def _aware(self) -> SilenceSettings:
        for name in ("starts", "ends"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise ValueError(f"{name} needs a time zone offset (2026-12-01T08:00:00Z)")
        if self.starts and self.ends and self.ends <= self.starts:
            raise ValueError("ends must be after starts")
        return self

    def active(self, at: datetime) -> bool:
        return (self.starts is None or self.starts <= at) and (self.ends is None or at < self.ends)


class AlertSettings(Section):
    """``[alerts]``: where alerts go, which rules fire them, what is silenced."""

    destinations: tuple[DestinationSettings, ...] = ()
    rules: tuple[RuleSettings, ...] = ()
    silences: tuple[SilenceSettings, ...] = ()
    interval: Duration = timedelta(minutes=1)  # rules are also evaluated on this clock
    public_url: HttpUrl | None = None  # where people reach this Tempox (links in alerts)
    max_downstream: int = Field(default=25, ge=0, le=1000)  # impact lines in a message
    retry_min: Duration = timedelta(seconds=5)  # first retry of a failed delivery
    retry_max: Duration = timedelta(minutes=10)  # longest wait between two attempts
    give_up_after: Duration = timedelta(days=1)  # a notification older than this is dropped

    @model_validator(mode="after")
    def _names(self) -> AlertSettings:
        for what, names in (
            ("destination", [d.name for d in self.destinations]),
            ("rule", [r.name for r in self.rules]),
        ):
            seen: set[str] = set()
            for name in names:
                if name in seen:
                    raise ValueError(f"two {what}s are named {name!r}")
                seen.add(name)
        known = {d.name for d in self.destinations}
        for rule in self.rules:
            for name in rule.notify:
                if name not in known:
                    configured = ", ".join(sorted(known)) or "none"
                    raise ValueError(
                        f"rule {rule.name!r} notifies {name!r}, which is not a destination "
                        f"(configured: {configured})"
                    )
        return self

    def destination(self, name: str) -> DestinationSettings | None:
        return next((d for d in self.destinations if d.name == name), None)
