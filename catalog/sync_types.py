"""What the sync engine reports: a sync's status and result, its batches as they commit, the
observer that follows them; and who a sync worker is."""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from catalog.enums import SyncTrigger
from catalog.errors import TempoxError
from catalog.records import Cursor
from catalog.secrets import redact

__all__ = [
    "BatchStats",
    "NullObserver",
    "SyncInterrupted",
    "SyncObserver",
    "SyncResult",
    "SyncStatus",
    "describe",
    "is_dead_local_process",
    "make_owner",
]


class SyncStatus(StrEnum):
    OK = "ok"
    FAILED = "failed"
    SKIPPED = "skipped"  # another worker holds the source's lease


@dataclass(frozen=True, slots=True)
class BatchStats:
    """One committed batch, and the sync's totals so far."""

    batches: int
    records: int  # in this batch
    total_records: int
    runs: int  # in this batch
    cursor: Cursor


@dataclass(frozen=True, slots=True)
class SyncResult:
    source: str
    kind: str
    status: SyncStatus
    batches: int = 0
    records: int = 0
    seconds: float = 0.0
    error: str | None = None
    sync_id: str | None = None  # None: the sync never held the lease
    trigger: SyncTrigger | None = None

    @property
    def ok(self) -> bool:
        return self.status is not SyncStatus.FAILED


class SyncObserver(Protocol):
    """Follows syncs as they go (a progress bar, metrics). Called from worker threads."""

    def start(self, source: str) -> None: ...

    def batch(self, source: str, stats: BatchStats) -> None: ...

    def done(self, source: str, result: SyncResult) -> None: ...


class NullObserver:
    def start(self, source: str) -> None:
        pass

    def batch(self, source: str, stats: BatchStats) -> None:
        pass

    def done(self, source: str, result: SyncResult) -> None:
        pass


class SyncInterrupted(TempoxError):
    """The sync was asked to stop; batches committed so far stay, the next sync resumes."""


def make_owner() -> str:
    """A lease owner name, unique per sync worker: ``host:pid:token``."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def describe(exc: BaseException) -> str:
    """An error as one line for people: Tempox's own messages as they are, others typed; any
    secret in it masked (:func:`catalog.secrets.redact`)."""
    if isinstance(exc, TempoxError):
        return redact(str(exc))
    lines = str(exc).strip().splitlines()
    # SQLAlchemy and HTTP errors append the statement or body on later lines.
    return redact(f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__)


def is_dead_local_process(owner: str) -> bool:
    """True when ``owner`` (``host:pid:token``) names a process of this host that is gone."""
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if os.name != "posix" or host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return True
    except OSError:
        return False  # it exists but is not ours to signal
    return False
