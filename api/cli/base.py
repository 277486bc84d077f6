"""The ``tempox`` command group, its options, how its errors and logs look."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from sqlalchemy.exc import SQLAlchemyError

from catalog.config import Settings, load_settings
from catalog.errors import TempoxError
from catalog.sync import describe


@dataclass(frozen=True)
class Options:
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
    options = ctx.find_object(Options)
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
    ctx.obj = Options(config, debug)
    configure_logging(logging.DEBUG if debug else logging.WARNING, debug)


class BriefFormatter(logging.Formatter):
    """Log lines without tracebacks, unless --debug."""

    def __init__(self, debug: bool) -> None:
        super().__init__("%(levelname)s %(name)s: %(message)s")
        self.debug = debug

    def format(self, record: logging.LogRecord) -> str:
        if not self.debug and record.exc_info:
            record = logging.makeLogRecord(record.__dict__)
            record.exc_info, record.exc_text = None, None
        return super().format(record)


class CliHandler(logging.StreamHandler):  # type: ignore[type-arg]
    pass


def configure_logging(level: int, debug: bool) -> None:
    logger = logging.getLogger("tempox")
    for old in [h for h in logger.handlers if isinstance(h, CliHandler)]:
        logger.removeHandler(old)
    handler = CliHandler()  # on today's stderr, which tests swap
    handler.setFormatter(BriefFormatter(debug))
    logger.addHandler(handler)
    logger.setLevel(level)
