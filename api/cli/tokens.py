"""``tempox token``: create, list and revoke API tokens (the CLI acts as ``cli:<user>``)."""

from __future__ import annotations

import getpass
from datetime import datetime

import click
from rich.table import Table

from api.cli.base import CliError, Options, main
from api.cli.output import open_settings_store, wide_console
from catalog.auth.principal import Scope
from catalog.auth.tokens import Tokens
from catalog.config import parse_duration
from catalog.errors import InvalidArgument


def cli_principal() -> str:
    """Who acts when the CLI writes: whoever can open the database can manage tokens."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name for this uid (a container)
        return "cli"


@main.group()
def token() -> None:
    """Manage API tokens (clients send them as `Authorization: Bearer <token>`)."""


@token.command("create")
@click.option("--name", required=True, help="What the token is for: ci, airflow-prod, alice …")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    required=True,
    type=click.Choice([s.value for s in Scope]),
    help="read (queries), ingest (OpenLineage events), write (mutations), admin (tokens); "
    "repeat for several.",
)
@click.option("--expires", help="Valid for this long: 30d, 12h, 90m (default: until revoked).")
@click.pass_obj
def create(options: Options, name: str, scopes: tuple[str, ...], expires: str | None) -> None:
    """Create a token; it is printed once, as the last line: keep it somewhere safe."""
    try:
        lifetime = parse_duration(expires) if expires is not None else None
    except ValueError as exc:
        raise CliError(f"--expires: {exc}") from None
    store = open_settings_store(options.settings())
    try:
        try:
            row, secret = Tokens(store).create(
                name, scopes, by=cli_principal(), expires_in=lifetime
            )
        except InvalidArgument as exc:
            raise CliError(exc.problem) from None
    finally:
        store.close()
    until = f"expires {_when(row.expires_at)}" if row.expires_at else "does not expire"
    click.echo(f"created token {row.name!r}: scopes {', '.join(row.scopes)}; {until}")
    click.echo("the token is shown this once (only a hash is kept):")
    click.echo(secret)


@token.command("list")
@click.option("--all", "show_all", is_flag=True, help="Include revoked tokens.")
@click.pass_obj
def list_tokens(options: Options, show_all: bool) -> None:
    """List tokens: name, scopes, created, expires, last used (never the tokens)."""
    store = open_settings_store(options.settings())
    try:
        rows = Tokens(store).list(include_revoked=show_all)
    finally:
        store.close()
    if not rows:
        click.echo("no tokens yet: tempox token create --name NAME --scope read", err=True)
        return
    columns = ["name", "scopes", "created", "expires", "last used"]
    table = Table(*columns, *(["revoked"] if show_all else []))
    for r in rows:
        cells = [
            r.name,
            ", ".join(r.scopes),
            f"{_when(r.created_at)} by {r.created_by}",
            _when(r.expires_at) or "never",
            _when(r.last_used_at) or "never",
        ]
        if show_all:
            cells.append(f"{_when(r.revoked_at)} by {r.revoked_by}" if r.revoked_at else "")
        table.add_row(*cells)
    wide_console().print(table)


@token.command("revoke")
@click.argument("name")
@click.pass_obj
def revoke(options: Options, name: str) -> None:
    """Revoke the token NAME: requests with it are refused from now on."""
    store = open_settings_store(options.settings())
    try:
        row = Tokens(store).revoke(name, by=cli_principal())
    finally:
        store.close()
    click.echo(f"revoked token {row.name!r}")


def _when(at: datetime | None) -> str:
    return f"{at:%Y-%m-%d %H:%M} UTC" if at is not None else ""
