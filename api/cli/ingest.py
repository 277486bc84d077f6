"""``tempox ingest``: load pushed metadata from files."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

from api.cli.base import CliError, Options, main
from api.cli.output import count, open_settings_store


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
def ingest_openlineage(options: Options, files: tuple[Path, ...], batch_size: int) -> None:
    """Load OpenLineage events from FILES: NDJSON (one event a line) or JSON (an event or an
    array of events), filed under the [server] openlineage_source source.

    Every event is checked against the spec first; a file with an invalid event loads nothing
    and names the event's line and field.
    """
    from adapters.openlineage import Checked
    from api.openlineage import BadRequest, LineageIntake, parse_events

    settings = options.settings()
    loaded: list[tuple[Path, list[Checked]]] = []
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise CliError(f"{path}: not UTF-8 text (byte {exc.start})") from None
        try:
            if _one_document(text):  # an event or an array, however it is laid out
                loaded.append((path, parse_events(text.encode())))
                continue
            events: list[Checked] = []
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
    store = open_settings_store(settings)
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
            duplicates = 0
            for path, events in loaded:
                for event in events:
                    for warning in event.warnings:
                        click.echo(f"warning: {path}: {warning}", err=True)
                for i in range(0, len(events), batch_size):
                    part = events[i : i + batch_size]
                    duplicates += intake.write(part).duplicates
                    progress.advance(task, len(part))
    finally:
        store.close()
    again = f" ({duplicates} of them stored before: not applied again)" if duplicates else ""
    click.echo(
        f"loaded {count(total, 'event', 'events')} from {count(len(files), 'file', 'files')}"
        + again
    )


def _one_document(text: str) -> bool:
    """Whether ``text`` is one JSON document (else it is read as NDJSON, a line at a time)."""
    try:
        json.loads(text)
    except ValueError:
        return False
    return True
