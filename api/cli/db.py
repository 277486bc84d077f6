"""``tempox db`` and ``tempox export-schema``."""

from __future__ import annotations

from pathlib import Path

import click

from api.cli.base import CliError, Options, main
from api.cli.output import safe_url
from catalog.store.engine import make_engine
from catalog.store.migrate import current_revision, upgrade

DEFAULT_SCHEMA_FILE = Path("graphql/schema.graphql")


@main.group()
def db() -> None:
    """Manage the catalog database."""


@db.command("upgrade")
@click.pass_obj
def db_upgrade(options: Options) -> None:
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
    click.echo(f"database {safe_url(url)}: revision {after} ({change})")


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
