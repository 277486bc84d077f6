"""The ``tempox`` command line: serve the API, sync sources, manage the database."""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import click
import platformdirs
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from catalog.config import Settings, load_settings
from catalog.errors import TempoxError
from catalog.store.engine import make_engine
from catalog.store.migrate import current_revision, upgrade
from catalog.store.store import SourceState, Store, open_store
from catalog.sync import BatchStats, SyncResult, SyncStatus, describe, sync_sources

__all__ = ["main"]

DEFAULT_SCHEMA_FILE = Path("graphql/schema.graphql")
PLAIN_PROGRESS_EVERY_S = 5.0


@dataclass(frozen=True)
class _Options:
    config: Path | None
    debug: bool

    def settings(self) -> Settings:
        return load_settings(self.config)


class CliError(click.ClickException):
    """Printed as ``error: <message>`` on stderr, exit status 1."""

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


class _Group(click.Group):
    """Shows Tempox's errors (and a database or file that will not open) as one line."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (TempoxError, SQLAlchemyError, OSError) as exc:
            if _debug(ctx):
                raise
            raise CliError(describe(exc)) from None


def _debug(ctx: click.Context) -> bool:
    options = ctx.find_object(_Options)
    return options.debug if options is not None else bool(ctx.params.get("debug"))


@click.group(
    cls=_Group,
    epilog="""\b
Examples:
  tempox sync                         pull every enabled source once
  tempox sync airflow-prod            pull one source
  tempox serve                        GraphQL at http://127.0.0.1:8000/graphql
  tempox demo                         serve a demo estate recorded from real servers
  tempox --config prod.toml sources   how each source's last sync went
  tempox db upgrade                   migrate the database to this version

The configuration is --config PATH, else $TEMPOX_CONFIG, else ./tempox.toml,
else built-in defaults (a SQLite file in your user data folder).
$TEMPOX_DATABASE_URL overrides the database URL.""",
)
@click.option(
    "--config",
    type=click.Path(dir_okay=False, path_type=Path),
    help="TOML settings file (default: $TEMPOX_CONFIG, else ./tempox.toml).",
)
@click.option("--debug", is_flag=True, help="Log everything and show tracebacks of errors.")
@click.version_option(package_name="tempox")
@click.pass_context
def main(ctx: click.Context, config: Path | None, debug: bool) -> None:
    """Tempox: one catalog for the runs, tasks and assets of every orchestrator."""
    ctx.obj = _Options(config, debug)
    _configure_logging(logging.DEBUG if debug else logging.WARNING, debug)


@main.command()
@click.option("--host", help="Interface to listen on (default: [server] host, 127.0.0.1).")
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    help="Port to listen on (default: [server] port, 8000).",
)
@click.option("--no-sync", is_flag=True, help="Serve only; do not sync sources in the background.")
@click.pass_obj
def serve(options: _Options, host: str | None, port: int | None, no_sync: bool) -> None:
    """Serve the GraphQL API (and sync sources in the background).

    GraphiQL, the in-browser query editor, is at /graphql; /healthz answers load balancers.
    """
    settings = options.settings()
    server = settings.server.model_copy(
        update={
            "host": host or settings.server.host,
            "port": port or settings.server.port,
            "sync_in_background": settings.server.sync_in_background and not no_sync,
        }
    )
    _serve(replace(settings, server=server), options.debug)


def _serve(settings: Settings, debug: bool) -> None:
    import uvicorn

    from api.app import create_app

    _configure_logging(logging.DEBUG if debug else logging.INFO, debug)
    app = create_app(settings)
    server = settings.server
    click.echo(
        f"Tempox on http://{server.host}:{server.port}/graphql "
        f"(database {_safe_url(settings.database.url)})",
        err=True,
    )
    uvicorn.run(app, host=server.host, port=server.port, log_level="debug" if debug else "info")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option(
    "--database",
    help="Load into this empty database instead (default: a demo.db in your user data "
    "folder, made afresh on every start).",
)
@click.option("--no-serve", is_flag=True, help="Load the demo estate, then exit.")
@click.pass_obj
def demo(options: _Options, host: str, port: int, database: str | None, no_serve: bool) -> None:
    """Load a demo estate recorded from real Airflow, Prefect and Dagster servers, and serve it.

    The recorded answers are replayed through the adapters' own code, times moved so that
    the recording looks a day old; the OpenLineage events of a BI tool go through the intake.
    The configuration file, if any, is not read.
    """
    from api.demo.estate import load_demo

    url = database or _fresh_demo_database()
    store = open_store(url, auto_upgrade=True)
    try:
        if database is not None and store.read_sources_with_state():
            raise CliError(f"{_safe_url(url)} already holds a catalog: the demo needs an empty one")
        loaded = load_demo(store)
    finally:
        store.close()
    _print_results(loaded.results)
    click.echo(f"openlineage: {_count(loaded.events, 'event', 'events')} through the intake")
    for miss in loaded.misses:
        click.echo(f"warning: the recording has no answer for {miss}", err=True)
    if any(r.status is not SyncStatus.OK for r in loaded.results):
        raise CliError("the demo estate did not load; see the table above")
    if no_serve:
        return
    settings = Settings().with_database(url)
    server = settings.server.model_copy(
        update={"host": host, "port": port, "sync_in_background": False}
    )
    _serve(replace(settings, server=server), options.debug)


def _fresh_demo_database() -> str:
    path = Path(platformdirs.user_data_dir("tempox", appauthor=False)) / "demo.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in (path, path.with_name("demo.db-wal"), path.with_name("demo.db-shm")):
        stale.unlink(missing_ok=True)
    return f"sqlite:///{path}"


@main.command()
@click.argument("sources", nargs=-1)
@click.pass_obj
def sync(options: _Options, sources: tuple[str, ...]) -> None:
    """Pull what is new from the sources, once.

    Syncs every enabled source, or only the SOURCES named. Exits with status 1 when a source
    failed; its error is also recorded on it (see `tempox sources`).
    """
    settings = options.settings()
    if not settings.sources and not sources:
        where = settings.path or "the configuration (no tempox.toml found)"
        click.echo(f"no sources in {where}: add a [sources.<name>] table", err=True)
        return
    store = _open_store(settings)
    try:
        console = Console()
        progress = _RichProgress(console) if console.is_terminal else _PlainProgress()
        with progress:
            results = sync_sources(store, settings, list(sources) or None, progress)
    finally:
        store.close()
    _print_results(results)
    if any(r.status is SyncStatus.FAILED for r in results):
        sys.exit(1)


@main.group()
def db() -> None:
    """Manage the catalog database."""


@db.command("upgrade")
@click.pass_obj
def db_upgrade(options: _Options) -> None:
    """Migrate the database to the schema this version of Tempox expects."""
    url = options.settings().database.url
    engine = make_engine(url)
    try:
        before = current_revision(engine)
        upgrade(engine)
        after = current_revision(engine)
    finally:
        engine.dispose()
    change = "already up to date" if before == after else f"upgraded from {before or 'empty'}"
    click.echo(f"database {_safe_url(url)}: revision {after} ({change})")


@main.command("sources")
@click.pass_obj
def sources_command(options: _Options) -> None:
    """List the sources and how their last sync went."""
    settings = options.settings()
    store = _open_store(settings)
    try:
        rows = store.read_sources_with_state()
    finally:
        store.close()
    known = {r.name for r in rows}
    rows += [
        SourceState(s.name, s.kind, None, "never", None, None, None, None, 0, 0, [], None, None)
        for s in settings.sources.values()
        if s.name not in known
    ]
    if not rows:
        click.echo("no sources yet: add a [sources.<name>] table to the configuration", err=True)
        return
    table = Table("name", "kind", "last outcome", "last success", "last error", "records")
    for r in sorted(rows, key=lambda r: r.name):
        table.add_row(
            r.name,
            r.kind,
            r.outcome,
            _when(r.succeeded_at),
            r.error or "",
            f"{r.records:,}",
        )
    console = _console()
    console.print(table)
    # What a source reports about itself (an Airflow DAG file that does not import, say).
    for r in sorted(rows, key=lambda r: r.name):
        for notice in r.notices:
            console.print(f"{r.name}: {notice}", markup=False, highlight=False)


@main.command("export-schema")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_SCHEMA_FILE,
    show_default=True,
    help="File to write the SDL to.",
)
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if the file is out of date.")
def export_schema(output: Path, check: bool) -> None:
    """Write the GraphQL schema (SDL) to a file.

    The checked-in graphql/schema.graphql is the API's contract; CI runs this with --check.
    """
    from strawberry.printer import print_schema

    from api.schema import schema

    sdl = print_schema(schema) + "\n"
    if check:
        current = output.read_text(encoding="utf-8") if output.is_file() else None
        if current != sdl:
            state = "is missing" if current is None else "is out of date with the code"
            raise CliError(f"{output} {state}: run `tempox export-schema --output {output}`")
        click.echo(f"{output} is up to date")
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(sdl, encoding="utf-8")
    click.echo(f"wrote {output}")


# -- helpers --------------------------------------------------------------------------------


def _open_store(settings: Settings) -> Store:
    return open_store(
        settings.database.url,
        auto_upgrade=settings.database.auto_upgrade,
        identity=settings.identity.compile(),
    )


def _safe_url(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL: the engine will say so; this is only for display
        return url


def _when(at: datetime | None) -> str:
    if at is None:
        return ""
    ago = (datetime.now(UTC) - at).total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if ago >= size:
            return f"{at:%Y-%m-%d %H:%M} UTC ({int(ago // size)}{unit} ago)"
    return f"{at:%Y-%m-%d %H:%M} UTC (just now)"


def _count(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def _console() -> Console:
    console = Console()
    # Piped into a file or a log, a table keeps its lines whole instead of wrapping at 80.
    return console if console.is_terminal else Console(width=200)


def _print_results(results: list[SyncResult]) -> None:
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
    _console().print(table)


class _RichProgress:
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

    def __enter__(self) -> _RichProgress:
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


class _PlainProgress:
    """Lines a log can keep: start, progress every few seconds, outcome."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.last: dict[str, float] = {}

    def __enter__(self) -> _PlainProgress:
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
            batches = _count(stats.batches, "batch", "batches")
            self._say(f"{source}: {batches}, {stats.total_records:,} records so far")

    def done(self, source: str, result: SyncResult) -> None:
        detail = f": {result.error}" if result.error else ""
        self._say(
            f"{source}: {result.status.value}, {result.records:,} records in "
            f"{_count(result.batches, 'batch', 'batches')} ({result.seconds:.1f}s){detail}"
        )


class _BriefFormatter(logging.Formatter):
    """Log lines without tracebacks, unless --debug."""

    def __init__(self, debug: bool) -> None:
        super().__init__("%(levelname)s %(name)s: %(message)s")
        self.debug = debug

    def format(self, record: logging.LogRecord) -> str:
        if not self.debug and record.exc_info:
            record = logging.makeLogRecord(record.__dict__)
            record.exc_info, record.exc_text = None, None
        return super().format(record)


class _CliHandler(logging.StreamHandler):  # type: ignore[type-arg]
    pass


def _configure_logging(level: int, debug: bool) -> None:
    logger = logging.getLogger("tempox")
    for old in [h for h in logger.handlers if isinstance(h, _CliHandler)]:
        logger.removeHandler(old)
    handler = _CliHandler()  # on today's stderr, which tests swap
    handler.setFormatter(_BriefFormatter(debug))
    logger.addHandler(handler)
    logger.setLevel(level)


@main.group()
def ingest() -> None:
    """Load pushed metadata from files."""


@ingest.command("openlineage")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--batch-size",
    type=click.IntRange(1, 100_000),
    default=500,
    show_default=True,
    help="Events written per transaction.",
)
@click.pass_obj
def ingest_openlineage(options: _Options, files: tuple[Path, ...], batch_size: int) -> None:
    """Load OpenLineage events from FILES: NDJSON (one event a line) or JSON (an event or an
    array of events), filed under the [server] openlineage_source source.

    Every event is checked against the spec first; a file with an invalid event loads nothing
    and names the event's line and field.
    """
    from api.openlineage import BadRequest, LineageIntake, parse_events

    settings = options.settings()
    loaded: list[tuple[Path, list[dict[str, Any]]]] = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        try:
            if _one_document(text):  # an event or an array, however it is laid out
                loaded.append((path, parse_events(text.encode())))
                continue
            events = []
            for n, line in enumerate(text.splitlines(), 1):
                if line.strip():
                    try:
                        events += parse_events(line.encode())
                    except BadRequest as exc:
                        raise CliError(f"{path}: line {n}: {exc.message}") from None
            loaded.append((path, events))
        except BadRequest as exc:
            raise CliError(f"{path}: {exc.message}") from None
    total = sum(len(events) for _, events in loaded)
    store = _open_store(settings)
    try:
        intake = LineageIntake(store, settings.server.openlineage_source)
        console = Console(stderr=True)
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            disable=not console.is_terminal,
        ) as progress:
            task = progress.add_task("openlineage", total=total)
            for _path, events in loaded:
                for i in range(0, len(events), batch_size):
                    part = events[i : i + batch_size]
                    intake.write(part)
                    progress.advance(task, len(part))
    finally:
        store.close()
    click.echo(
        f"loaded {_count(total, 'event', 'events')} from {_count(len(files), 'file', 'files')}"
    )


def _one_document(text: str) -> bool:
    """Whether ``text`` is one JSON document (else it is read as NDJSON, a line at a time)."""
    try:
        json.loads(text)
    except ValueError:
        return False
    return True
