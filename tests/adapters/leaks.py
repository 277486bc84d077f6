"""Looking for a secret everywhere Tempox shows something after a sync of a real server: the
sync's result, what the store keeps, the GraphQL API's answers, what ``tempox sync``,
``tempox --debug sync`` and ``tempox sources`` print, and every log line.

A secret is a sentinel no other test uses; it counts as seen in any form: whole, URL-encoded,
base64-encoded (HTTP basic auth), or a piece of 16 characters of it (cut by a snippet, or
wrapped by a table).
"""

from __future__ import annotations

import base64
import io
import json
import logging
import re
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

import catalog.config
from api.app import create_app
from api.cli import main
from api.cli.base import BriefFormatter, install_log_redaction
from catalog.config import CONFIG_ENV, DATABASE_URL_ENV, parse_settings
from catalog.service import Catalog
from catalog.store.store import Store
from catalog.sync import sync_sources
from catalog.sync_types import SyncResult, SyncStatus
from tests.catalog.store.snapshot import snapshot

SENTINEL = "SENTINEL-7f3a9c"
PIECE = 16  # characters of the secret that count as seen
_FRAME = re.compile(r"[\s│┃║╎┆|]")  # what a table's wrapping puts inside a long value

QUERY = """{
  sources { nodes { name kind baseUrl settings sync { outcome lastError notices } } }
  pipelines(first: 100) { nodes { name uiUrl } }
  runs(first: 100) { nodes { uiUrl } }
  assets(first: 100) { nodes { uri } }
}"""


def new_secret() -> str:
    """A secret no other test (and no earlier registration) knows."""
    return f"{SENTINEL}-{uuid.uuid4().hex}"


def with_userinfo(url: str, secret: str, user: str = "tempox") -> str:
    """``url`` with ``user:secret@`` written into it."""
    scheme, rest = url.split("://", 1)
    return f"{scheme}://{user}:{secret}@{rest}"


def forms(secret: str, user: str = "tempox") -> set[str]:
    """Every way ``secret`` could show: whole, URL-encoded, base64 in any alignment (alone or
    as ``user:secret`` basic auth), or any piece of it of ``PIECE`` characters."""
    found = {secret, quote(secret, safe="")}
    found |= {secret[i : i + PIECE] for i in range(len(secret) - PIECE + 1)}
    for plain in (secret, f"{user}:{secret}"):
        for shift in range(3):
            for encode in (base64.b64encode, base64.urlsafe_b64encode):
                text = encode(b"\0" * shift + plain.encode()).decode().rstrip("=")
                # The first group mixes in the shift, the last one what follows the secret.
                found.add(text[4 if shift else 0 : -4])
    return found


def assert_not_in(secret: str, where: str, text: str) -> None:
    flat = _FRAME.sub("", text)
    for form in sorted(forms(secret), key=len, reverse=True):
        if form in text or form in flat:
            pytest.fail(f"{where} shows the secret (as {form!r}):\n{text}")


def unregistered(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tempox does not learn the secrets it reads: what it shows must be clean regardless
    (a server may echo credentials it was never given by this process)."""
    monkeypatch.setattr(catalog.config, "register_secret", lambda value: None)


@dataclass
class Seen:
    """Everything that was shown during and after a sync, by where it was shown."""

    texts: dict[str, str] = field(default_factory=dict)

    def add(self, where: str, text: str) -> None:
        self.texts[where] = self.texts.get(where, "") + text

    def assert_clean(self, secret: str) -> None:
        assert self.texts
        for where, text in self.texts.items():
            assert_not_in(secret, where, text)


@contextmanager
def logs_seen(seen: Seen, caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Every log record, at every level, of every logger, as caplog and a ``--debug`` CLI
    handler on the root logger show them (with the redaction a server installs)."""
    install_log_redaction()
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(BriefFormatter(debug=True))
    root = logging.getLogger()
    root.addHandler(handler)
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="tempox")
    try:
        yield
    finally:
        root.removeHandler(handler)
        seen.add("the log handler", out.getvalue())
        seen.add("caplog", caplog.text)
        for r in caplog.records:
            seen.add("a log record", f"{r.getMessage()}\n{r.exc_text or ''}\n")


def failed_with(result: SyncResult, pattern: str, *, full: bool = False) -> str:
    """The error of a sync that must have failed, which must match ``pattern`` (from its start;
    whole with ``full``)."""
    assert result.status is SyncStatus.FAILED
    assert result.error is not None
    match = re.fullmatch if full else re.match
    assert match(pattern, result.error), result.error
    return result.error


def sync_seen(
    store: Store,
    sources: Mapping[str, Any],
    name: str,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[SyncResult, Seen]:
    """Sync ``name`` of ``sources`` (a ``[sources]`` table) once directly, then through the CLI
    (``tempox sync``, ``tempox --debug sync``, ``tempox sources``), and read back what the
    store, the API and the logs show."""
    seen = Seen()
    settings = parse_settings({"sources": dict(sources)}, file="t.toml")
    with logs_seen(seen, caplog):
        [result] = sync_sources(store, settings, [name])
    seen.add("SyncResult.error", result.error or "")
    seen.add("the stored sync states", repr(store.read_sources_with_state()))
    seen.add("the store", repr(snapshot(store, skip=())))
    seen.add("the GraphQL answer", graphql(store))
    for where, text in cli(store, sources, name, tmp_path, monkeypatch).items():
        seen.add(where, text)
    return result, seen


def graphql(store: Store) -> str:
    with TestClient(create_app(catalog=Catalog(store), cache_responses=False)) as http:
        response = http.post("/graphql", json={"query": QUERY})
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return response.text


def cli(
    store: Store,
    sources: Mapping[str, Any],
    name: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> dict[str, str]:
    """stdout and stderr of the commands people run, on a configuration naming the source."""
    monkeypatch.delenv(CONFIG_ENV, raising=False)
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
    config = tmp_path / "tempox.toml"
    lines = ["[database]", f"url = {json.dumps(store.url)}", ""]
    for source, table in sources.items():
        lines.append(f"[sources.{source}]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in table.items()]
        lines.append("")
    config.write_text("\n".join(lines))
    out: dict[str, str] = {}
    for args in (["sync", name], ["--debug", "sync", name], ["sources"]):
        result = CliRunner().invoke(main, ["--config", str(config), *args])
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            result.exception
        )
        out[f"tempox {' '.join(args)}"] = result.stdout + result.stderr
    return out
