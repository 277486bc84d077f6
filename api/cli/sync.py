"""``tempox sync`` and ``tempox sources``."""

from __future__ import annotations

import sys

import click
from rich.console import Console
from rich.table import Table

from api.cli.base import Options, main
from api.cli.output import (
    PlainProgress,
    RichProgress,
    open_settings_store,
    print_results,
    when,
    wide_console,
)
from catalog.alerts.service import AlertService
from catalog.alerts.settings import AlertSettings
from catalog.store.store import SourceState, Store
from catalog.sync import sync_sources
from catalog.sync_types import SyncStatus


@main.command()
@click.argument("sources", nargs=-1)
@click.pass_obj
def sync(options: Options, sources: tuple[str, ...]) -> None:
    """Pull what is new from the sources, once.

    Syncs every enabled source, or only the SOURCES named. Exits with status 1 when a source
    failed; its error is also recorded on it (see `tempox sources`).
    """
    settings = options.settings()
    if not settings.sources and not sources:
        where = settings.path or "the configuration (no tempox.toml found)"
        click.echo(f"no sources in {where}: add a [sources.<name>] table", err=True)
        return
    store = open_settings_store(settings)
    try:
        console = Console()
        progress = RichProgress(console) if console.is_terminal else PlainProgress()
        with progress:
            results = sync_sources(store, settings, list(sources) or None, progress)
        if settings.alerts.rules:
            _alert(store, settings.alerts)
    finally:
        store.close()
    print_results(results)
    if any(r.status is SyncStatus.FAILED for r in results):
        sys.exit(1)


def _alert(store: Store, alerts: AlertSettings) -> None:
    """Evaluate the alert rules after the sync, and deliver what they decided once (what
    fails stays in the outbox for `tempox serve` to retry)."""
    service = AlertService(store, alerts)
    try:
        found = service.evaluate()
        sent = service.dispatcher.deliver_all()
    finally:
        service.stop()  # hands the evaluator's turn over at once
    if found is not None and (found.fired or found.resolved):
        click.echo(
            f"alerts: {found.fired} fired, {found.resolved} resolved, {sent} notifications sent",
            err=True,
        )


@main.command("sources")
@click.pass_obj
def sources_command(options: Options) -> None:
    """List the sources and how their last sync went."""
    settings = options.settings()
    store = open_settings_store(settings)
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
            when(r.succeeded_at),
            r.error or "",
            f"{r.records:,}",
        )
    out = wide_console()
    out.print(table)
    # What a source reports about itself (an Airflow DAG file that does not import, say).
    for r in sorted(rows, key=lambda r: r.name):
        for notice in r.notices:
            out.print(f"{r.name}: {notice}", markup=False, highlight=False)
    # What the next sync would fail on, said before it runs.
    for source in sorted(settings.sources.values(), key=lambda s: s.name):
        for problem in ([source.problem] if source.problem else []) + source.unset_secrets():
            click.echo(f"warning: {source.name}: {problem}", err=True)
