"""The ``tempox`` command line: serve the API, sync sources, manage the database and tokens.

One module per command (or group of commands); importing them registers them on :data:`main`.
"""

from __future__ import annotations

from api.cli import db, identity, ingest, serve, sync, tokens
from api.cli.base import main

__all__ = ["main"]

_COMMANDS = (db, identity, ingest, serve, sync, tokens)  # imported for their registrations
