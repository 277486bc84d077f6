"""What the commands print: tables, times, counts and sync progress."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from types import TracebackType

import click
from rich.console import Console
from rich.progress import (
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from sqlalchemy.engine import make_url

from catalog.config import Settings
from catalog.store.store import Store, open_store
from catalog.sync_types import BatchStats, SyncResult

PLAIN_PROGRESS_EVERY_S = 5.0


# -- helpers --------------------------------------------------------------------------------


def open_settings_store(settings: Settings) -> Store:
    return open_store(
        settings.database.url,
        auto_upgrade=settings.database.auto_upgrade,
        identity=settings.identity.compile(),
    )


def safe_url(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL: the engine will say so; this is only for display
        return url


def when(at: datetime | None) -> str:
    if at is None:
        return ""
    ago = (datetime.now(UTC) - at).total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if ago >= size:
            return f"{at:%Y-%m-%d %H:%M} UTC ({int(ago // size)}{unit} ago)"
    return f"{at:%Y-%m-%d %H:%M} UTC (just now)"


def count(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def wide_console() -> Console:
    console = Console()
    # Piped into a file or a log, a table keeps its lines whole instead of wrapping at 80.
    return console if console.is_terminal else Console(width=200)


def print_results(results: list[SyncResult]) -> None:
    table = Table("source", "kind", "result", "batches", "records", "time", "error")
    for r in results:
        table.add_row(
            r.source,
            r.kind,
            r.status.value,
            str(r.batches),
            f"{r.records:,}",
            f"{r.seconds:.1f}s",
            r.error or "",
        )
    wide_console().print(table)


class RichProgress:
    """One progress line per source, on a terminal."""

    def __init__(self, console: Console) -> None:
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}"),
            TextColumn("{task.fields[batches]} batches"),
            TextColumn("{task.completed:,.0f} records"),
            TimeElapsedColumn(),
            TextColumn("{task.fields[note]}"),
            console=console,
        )
        self.tasks: dict[str, TaskID] = {}
        self.lock = threading.Lock()

    def __enter__(self) -> RichProgress:
        self.progress.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.progress.stop()

    def start(self, source: str) -> None:
        with self.lock:
            self.tasks[source] = self.progress.add_task(source, total=None, batches=0, note="")

    def batch(self, source: str, stats: BatchStats) -> None:
        self.progress.update(
            self.tasks[source], completed=stats.total_records, batches=stats.batches
        )

    def done(self, source: str, result: SyncResult) -> None:
        note = {"ok": "[green]ok", "failed": "[red]failed", "skipped": "[yellow]skipped"}
        self.progress.update(self.tasks[source], total=result.records, note=note[result.status])
        self.progress.stop_task(self.tasks[source])


class PlainProgress:
    """Lines a log can keep: start, progress every few seconds, outcome."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.last: dict[str, float] = {}

    def __enter__(self) -> PlainProgress:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        pass

    def _say(self, line: str) -> None:
        with self.lock:
            click.echo(line)

    def start(self, source: str) -> None:
        self.last[source] = time.monotonic()
        self._say(f"{source}: syncing")

    def batch(self, source: str, stats: BatchStats) -> None:
        now = time.monotonic()
        if now - self.last.get(source, 0.0) >= PLAIN_PROGRESS_EVERY_S:
            self.last[source] = now
            batches = count(stats.batches, "batch", "batches")
            self._say(f"{source}: {batches}, {stats.total_records:,} records so far")

    def done(self, source: str, result: SyncResult) -> None:
        detail = f": {result.error}" if result.error else ""
        self._say(
            f"{source}: {result.status.value}, {result.records:,} records in "
            f"{count(result.batches, 'batch', 'batches')} ({result.seconds:.1f}s){detail}"
        )
