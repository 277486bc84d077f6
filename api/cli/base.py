"""The ``tempox`` command group, its options, how its errors and logs look."""

from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from sqlalchemy.exc import SQLAlchemyError

from catalog.config import Settings, load_settings
from catalog.errors import TempoxError
from catalog.secrets import RedactingFilter, install_record_redaction, redact
from catalog.sync_types import describe

__all__ = [
    "BriefFormatter",
    "CliError",
    "CliHandler",
    "Options",
    "configure_logging",
    "install_log_redaction",
    "main",
]

# Loggers whose handlers get a redacting filter; uvicorn's handlers (any "uvicorn*" logger's)
# are found by name.
_LOGGERS = ("", "tempox", "uvicorn", "uvicorn.error", "uvicorn.access")


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
    """Shows Tempox's errors (and a database or file that will not open) as one line; with
    --debug, and for any other error, a traceback with every secret in it masked."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except (TempoxError, SQLAlchemyError, OSError) as exc:
            if not _debug(ctx):
                raise CliError(describe(exc)) from None
            _print_traceback()
        except Exception:
            _print_traceback()
        ctx.exit(1)


def _print_traceback() -> None:
    """The traceback of the exception being handled, as Python would print it, masked."""
    click.echo(redact(traceback.format_exc()).rstrip("\n"), err=True)


def _debug(ctx: click.Context) -> bool:
    options = ctx.find_object(Options)
    return options.debug if options is not None else bool(ctx.params.get("debug"))


@click.group(
    cls=_Group,
    epilog="""\b
Examples:
  tempox sync                         pull every enabled source once
  tempox sync airflow-prod            pull one source
  tempox serve                        web UI at http://127.0.0.1:8000/, GraphQL at /graphql
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
    """Log lines without tracebacks, unless --debug; any secret in them masked."""

    def __init__(self, debug: bool) -> None:
        super().__init__("%(levelname)s %(name)s: %(message)s")
        self.debug = debug

    def format(self, record: logging.LogRecord) -> str:
        if not self.debug and record.exc_info:
            record = logging.makeLogRecord(record.__dict__)
            record.exc_info, record.exc_text = None, None
        # The message, its arguments and the traceback, masked as one text.
        return redact(super().format(record))


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
    install_log_redaction()


def install_log_redaction() -> None:
    """Mask every secret in every log line of this process from now on: each record as it is
    made (so handlers configured later, such as uvicorn's when it starts, get masked records),
    and each record the handlers of the root, ``tempox`` and ``uvicorn*`` loggers already
    have pass through a :class:`~catalog.secrets.RedactingFilter`. Calling it again adds
    nothing twice."""
    install_record_redaction()
    names = {*_LOGGERS, *(n for n in logging.root.manager.loggerDict if n.startswith("uvicorn"))}
    for name in sorted(names):
        for handler in logging.getLogger(name or None).handlers:
            if not any(isinstance(f, RedactingFilter) for f in handler.filters):
                handler.addFilter(RedactingFilter())
