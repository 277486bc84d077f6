"""``tempox identity apply``: bring the catalog in line with the ``[identity]`` rules."""

from __future__ import annotations

import click

from api.cli.base import Options, main
from catalog.store.identity_apply import apply_identity
from catalog.store.store import open_store


@main.group()
def identity() -> None:
    """Asset identity: the [identity] rules that make two spellings one asset."""


@identity.command("apply")
@click.option(
    "--dry-run", is_flag=True, help="Show what would merge, split and move; change nothing."
)
@click.pass_obj
def identity_apply(options: Options, dry_run: bool) -> None:
    """Re-resolve every asset under the configured [identity] rules.

    Assets that now have one identity are merged, assets whose sources now part are split, and
    their events, checks, lineage, links and aliases follow, in one transaction: the catalog
    ends where a fresh sync under these rules would. Every start (`tempox serve`, `tempox
    sync`) does this by itself when the rules changed; run it to see or do it beforehand.
    """
    settings = options.settings()
    rules = settings.identity.compile()
    store = open_store(
        settings.database.url,
        auto_upgrade=settings.database.auto_upgrade,
        identity=rules,
        reresolve=False,
    )
    try:
        report = apply_identity(store.engine, rules, dry_run=dry_run)
    finally:
        store.close()
    for line in report.lines():
        click.echo(line)
    if not report.changed:
        click.echo("nothing to change: the catalog agrees with the [identity] rules")
    elif dry_run:
        click.echo(f"dry run, nothing written: would change {report.summary()}")
    else:
        click.echo(f"applied: {report.summary()}")
