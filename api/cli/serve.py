"""``tempox serve`` and ``tempox demo``."""

from __future__ import annotations

import fcntl
import logging
import socket
from dataclasses import replace
from pathlib import Path
from typing import TextIO

import click
import platformdirs

from api.auth.posture import check_posture
from api.cli.base import CliError, Options, configure_logging, install_log_redaction, main
from api.cli.output import count, open_settings_store, print_results, safe_url
from catalog.auth.tokens import Tokens
from catalog.config import Settings
from catalog.store.store import open_store
from catalog.sync_types import SyncStatus

INSECURE_HELP = "Serve without auth on a non-loopback address (anyone who can reach it may write)."


@main.command()
@click.option("--host", help="Interface to listen on (default: [server] host, 127.0.0.1).")
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    help="Port to listen on (default: [server] port, 8000).",
)
@click.option("--no-sync", is_flag=True, help="Serve only; do not sync sources in the background.")
@click.option("--insecure", is_flag=True, help=INSECURE_HELP)
@click.pass_obj
def serve(
    options: Options, host: str | None, port: int | None, no_sync: bool, insecure: bool
) -> None:
    """Serve the GraphQL API (and sync sources in the background).

    The web UI is at /, GraphiQL (the in-browser query editor) at /graphql; /healthz answers
    load balancers.
    Without an [auth] section the server is open, so it listens only on a loopback address
    unless --insecure is given.
    """
    settings = options.settings()
    server = settings.server.model_copy(
        update={
            "host": host or settings.server.host,
            "port": port or settings.server.port,
            "sync_in_background": settings.server.sync_in_background and not no_sync,
        }
    )
    _serve(replace(settings, server=server), options.debug, insecure)


def _serve(settings: Settings, debug: bool, insecure: bool) -> None:
    import uvicorn

    from api.app import create_app

    configure_logging(logging.DEBUG if debug else logging.INFO, debug)
    server = settings.server
    store = open_settings_store(settings)
    try:
        active = len(Tokens(store).list())
    finally:
        store.close()
    posture = check_posture(server.host, settings.auth, insecure=insecure, active_tokens=active)
    app = create_app(settings)
    click.echo(
        f"Tempox on http://{server.host}:{server.port}/ (web UI; GraphQL at /graphql) "
        f"(database {safe_url(settings.database.url)})",
        err=True,
    )
    click.echo(posture, err=True)
    config = uvicorn.Config(
        app, host=server.host, port=server.port, log_level="debug" if debug else "info"
    )
    install_log_redaction()  # uvicorn's handlers exist now
    uvicorn.Server(config).run()


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option(
    "--database",
    help="Load into this empty database instead of a fresh demo.db in --state-dir.",
)
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of the demo's own database, made afresh on every start (default: your user "
    "data folder; `make run` uses .cache/demo in the checkout).",
)
@click.option("--no-serve", is_flag=True, help="Load the demo estate, then exit.")
@click.option("--insecure", is_flag=True, help=INSECURE_HELP)
@click.pass_obj
def demo(
    options: Options,
    host: str,
    port: int,
    database: str | None,
    state_dir: Path | None,
    no_serve: bool,
    insecure: bool,
) -> None:
    """Load a demo estate recorded from real Airflow, Prefect and Dagster servers, and serve it.

    The recorded answers are replayed through the adapters' own code, times moved so that
    the recording looks a day old; the OpenLineage events of a BI tool go through the intake.
    The configuration file, if any, is not read.
    """
    from api.demo.estate import load_demo

    if not no_serve:  # refuse an open server on a public address before loading anything
        check_posture(host, None, insecure=insecure, active_tokens=0)
        check_port_free(host, port)
    if database is not None:
        url = database
    else:
        folder = state_dir or Path(platformdirs.user_data_dir("tempox", appauthor=False))
        hold_demo_lock(folder)
        url = _fresh_demo_database(folder)
    store = open_store(url, auto_upgrade=True)
    try:
        if database is not None and store.read_sources_with_state():
            raise CliError(f"{safe_url(url)} already holds a catalog: the demo needs an empty one")
        loaded = load_demo(store)
    finally:
        store.close()
    print_results(loaded.results)
    click.echo(f"openlineage: {count(loaded.events, 'event', 'events')} through the intake")
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
    _serve(replace(settings, server=server), options.debug, insecure)


def check_port_free(host: str, port: int) -> None:
    """Fail before loading anything when another process already listens on ``host:port``."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise CliError(
                f"{host}:{port} is taken ({exc.strerror or exc}): pick another port with "
                f"--port (make run PORT={port + 10})"
            ) from None


def hold_demo_lock(folder: Path) -> None:
    """An exclusive lock on ``folder`` for as long as this process lives, so a second demo
    never deletes the database under a running one."""
    folder.mkdir(parents=True, exist_ok=True)
    lock = (folder / "demo.lock").open("w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        raise CliError(
            f"another `tempox demo` is serving {folder / 'demo.db'}: stop it, or give this "
            "one its own folder with --state-dir"
        ) from None
    _HELD.append(lock)  # released by the OS when the process ends


_HELD: list[TextIO] = []


def _fresh_demo_database(folder: Path) -> str:
    path = folder / "demo.db"
    for stale in (path, path.with_name("demo.db-wal"), path.with_name("demo.db-shm")):
        stale.unlink(missing_ok=True)
    return f"sqlite:///{path}"
