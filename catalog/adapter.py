"""The adapter contract: how Tempox reads one kind of orchestrator.

An adapter is a subclass of :class:`Adapter` that declares

- ``kind``: the name people write in ``[sources.<name>] kind = "..."``;
- ``config_class``: an :class:`AdapterConfig` (pydantic, ``extra="forbid"``, frozen) that
  validates the adapter's own keys of that table. Secrets never appear in it: a field ending in
  ``_env`` names the environment variable that holds one, read with
  :func:`catalog.config.read_secret` when the adapter needs it;

and implements

- ``__init__(name, config)``: cheap, no network; ``name`` is the source's name;
- ``fetch(cursor)``: yield :class:`~catalog.records.Batch` es of everything new since ``cursor``
  (``None`` on the first sync). Each batch carries the cursor to resume *after* it; the sync
  engine commits the batch and its cursor in one transaction, so a sync killed between two
  batches resumes where the last commit left it, duplicating nothing. When the orchestrator is
  unreachable, refuses, or sends something unreadable, raise :class:`~catalog.errors.AdapterError`
  with a message naming the source and what went wrong; it is recorded on the source;
- ``fetch_hinted(hints, cursor)`` (optional): yield batches of just what a push named (a run
  id, a pipeline), read first so a finished run shows up before the whole incremental sync has
  run; the incremental ``fetch`` follows as usual. Each batch is committed on its own, so a run
  should come whole, with its task runs, in one batch; the batches' cursor is ignored (the
  sync's cursor does not move). It may also be called between two batches of ``fetch``, for
  hints pushed while the sync runs. A hint naming nothing the tool knows yields nothing. The
  default reads nothing, so an adapter written before hints existed works unchanged;
- ``base_url`` (optional): the orchestrator's address, shown beside the source;
- ``close()`` (optional): release connections. A long-running worker keeps an adapter open
  from one sync of its source to the next (one sync at a time; closed after a failed sync and
  at shutdown), so ``fetch`` must not rely on state an earlier ``fetch`` left behind, and a
  session must renew what expires (a sign-in) by itself.

Adapters are found through the ``tempox.adapters`` entry-point group
(``synthetic = "adapters.synthetic:SyntheticAdapter"``), so a third-party package adds one
without touching the core. Optional SDKs belong inside the adapter module. A plugin that fails
to import is logged and skipped; the failure is reported when a source asks for its kind.
"""

from __future__ import annotations

import functools
import logging
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from types import TracebackType
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict

from catalog.errors import ConfigError
from catalog.records import Batch, Cursor

__all__ = [
    "ENTRY_POINT_GROUP",
    "Adapter",
    "AdapterConfig",
    "AdapterScan",
    "SessionAdapter",
    "SyncHint",
    "adapter_class",
    "discover_adapters",
    "scan_adapters",
]

ENTRY_POINT_GROUP = "tempox.adapters"

log = logging.getLogger("tempox.adapters")


_SECRET_WORDS = frozenset({"password", "passwd", "secret", "token", "apikey", "credentials"})


class AdapterConfig(BaseModel):
    """The adapter-specific keys of a ``[sources.<name>]`` table.

    A field that would hold a secret (``password``, ``api_token`` …) is refused when the class
    is defined: the stored settings of a source must never contain one. Name the environment
    variable instead (``api_token_env``).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        for name in cls.model_fields:
            words = name.lower().split("_")
            if words[-1] in _SECRET_WORDS or words[-2:] == ["api", "key"]:
                raise TypeError(
                    f"{cls.__qualname__}.{name}: a secret must not be a config value; "
                    f"add '{name}_env' naming the environment variable that holds it"
                )


ConfigT = TypeVar("ConfigT", bound=AdapterConfig)


@dataclass(frozen=True, slots=True)
class SyncHint:
    """What a push says changed: a run (the tool's id for it) and/or its pipeline (a DAG id, a
    flow name, a job name). Either may be missing; an adapter uses what it can."""

    run_id: str | None = None
    pipeline: str | None = None

    def to_json(self) -> dict[str, str]:
        return {k: v for k, v in (("run_id", self.run_id), ("pipeline", self.pipeline)) if v}

    @classmethod
    def from_json(cls, data: Any) -> SyncHint:
        if not isinstance(data, dict):
            return cls()
        run_id, pipeline = data.get("run_id"), data.get("pipeline")
        return cls(
            run_id if isinstance(run_id, str) else None,
            pipeline if isinstance(pipeline, str) else None,
        )


class Adapter(ABC, Generic[ConfigT]):
    """Reads one source; see the module docstring for the contract."""

    kind: ClassVar[str]
    config_class: ClassVar[type[AdapterConfig]]

    def __init__(self, name: str, config: ConfigT) -> None:
        self.name = name
        self.config = config

    @property
    def base_url(self) -> str | None:
        return None

    @abstractmethod
    def fetch(self, cursor: Cursor | None) -> Iterator[Batch]:
        """Yield batches of what is new since ``cursor``, each with the cursor that follows it."""

    def fetch_hinted(self, hints: Sequence[SyncHint], cursor: Cursor | None) -> Iterator[Batch]:
        """Yield batches of just what ``hints`` name, before the incremental :meth:`fetch`."""
        return iter(())

    def close(self) -> None:
        """Release what the adapter holds (HTTP clients, connections)."""

    def __enter__(self) -> Adapter[ConfigT]:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class Closable(Protocol):
    def close(self) -> None: ...


SessionT = TypeVar("SessionT", bound=Closable)


class SessionAdapter(Adapter[ConfigT], Generic[ConfigT, SessionT]):
    """An adapter that talks to its orchestrator through one session (HTTP client, sign-in,
    server clock), opened on first use and closed with the adapter."""

    def __init__(self, name: str, config: ConfigT) -> None:
        super().__init__(name, config)
        self._session: SessionT | None = None

    @abstractmethod
    def open_session(self) -> SessionT:
        """A new session for ``self.config``; cheap until it sends something."""

    @property
    def session(self) -> SessionT:
        if self._session is None:
            self._session = self.open_session()
        return self._session

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None


@dataclass(frozen=True)
class AdapterScan:
    """What the entry-point group holds: adapters that loaded, and why the others did not."""

    adapters: dict[str, type[Adapter[Any]]] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)


@functools.cache
def scan_adapters() -> AdapterScan:
    """Load every adapter of the ``tempox.adapters`` group; never raises for a broken plugin.

    Loaded once per process (``scan_adapters.cache_clear()`` forgets what was found).
    """
    scan = AdapterScan()
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in scan.adapters or ep.name in scan.failures:
            log.warning("adapter kind %r is declared twice; ignoring %s", ep.name, _origin(ep))
            continue
        try:
            loaded = ep.load()
        except Exception as exc:
            # Any exception: a plugin's import can fail in any way, and the host must survive.
            failure = f"{ep.value} failed to import: {type(exc).__name__}: {exc}"
            log.warning("adapter %r skipped: %s", ep.name, failure)
            log.debug("adapter %r import error", ep.name, exc_info=True)
            scan.failures[ep.name] = failure
            continue
        problem = _check(ep.name, ep.value, loaded)
        if problem is not None:
            log.warning("adapter %r skipped: %s", ep.name, problem)
            scan.failures[ep.name] = problem
            continue
        scan.adapters[ep.name] = loaded
    return scan


def discover_adapters() -> dict[str, type[Adapter[Any]]]:
    """Adapters by kind, from the ``tempox.adapters`` entry points; broken plugins left out."""
    return dict(scan_adapters().adapters)


def adapter_class(kind: str) -> type[Adapter[Any]]:
    """The adapter for ``kind``; a :class:`ConfigError` says why there is none."""
    found = discover_adapters()
    if kind in found:
        return found[kind]
    failure = scan_adapters().failures.get(kind)
    if failure is not None:
        raise ConfigError(f"adapter {kind!r} is installed but could not be loaded: {failure}")
    available = ", ".join(sorted(found)) or "none"
    raise ConfigError(f"unknown adapter kind {kind!r} (available: {available})")


def _check(name: str, target: str, loaded: object) -> str | None:
    if not (isinstance(loaded, type) and issubclass(loaded, Adapter)):
        return f"{target} is not a subclass of catalog.adapter.Adapter"
    if getattr(loaded, "kind", None) != name:
        return f"{target} declares kind {getattr(loaded, 'kind', None)!r}, not {name!r}"
    config = getattr(loaded, "config_class", None)
    if not (isinstance(config, type) and issubclass(config, AdapterConfig)):
        return f"{target}.config_class is not a subclass of catalog.adapter.AdapterConfig"
    return None


def _origin(ep: Any) -> str:
    dist = getattr(ep, "dist", None)
    return f"{ep.value} from {dist.name}" if dist is not None else str(ep.value)
