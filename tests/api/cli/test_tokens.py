"""``tempox token create/list/revoke``, exactly as scripts outside the suite call them."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from api.cli import main
from catalog.auth.tokens import InvalidToken, Tokens
from catalog.config import CONFIG_ENV, DATABASE_URL_ENV
from catalog.store.store import Store


@pytest.fixture(autouse=True)
def database_url(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    monkeypatch.delenv(CONFIG_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 't.db'}"
    monkeypatch.setenv(DATABASE_URL_ENV, url)
    return url


def tempox(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def test_create_prints_the_token_last_and_list_never_shows_it(database_url: str) -> None:
    made = tempox("token", "create", "--name", "ci", "--scope", "read", "--scope", "ingest")
    assert made.exit_code == 0, made.output
    token = made.stdout.strip().splitlines()[-1]
    assert token.startswith("tpx_")
    assert "scopes ingest, read; does not expire" in made.stdout
    store = Store(database_url)
    try:
        assert Tokens(store).verify(token).name == "token:ci"
    finally:
        store.close()

    timed = tempox("token", "create", "--name", "temp", "--scope", "admin", "--expires", "30d")
    assert timed.exit_code == 0, timed.output
    assert "expires 20" in timed.stdout

    listed = tempox("token", "list")
    assert listed.exit_code == 0, listed.output
    for heading in ("name", "scopes", "created", "expires", "last used"):
        assert heading in listed.stdout
    assert "ci" in listed.stdout
    assert "ingest, read" in listed.stdout
    assert "by cli:" in listed.stdout
    assert "never" in listed.stdout
    assert "tpx_" not in listed.stdout
    assert token.split("_", 2)[2] not in listed.stdout  # the whole secret, which may hold "_"


def test_revoke_stops_the_token_at_once(database_url: str) -> None:
    token = tempox("token", "create", "--name", "ci", "--scope", "read").stdout.splitlines()[-1]
    revoked = tempox("token", "revoke", "ci")
    assert revoked.exit_code == 0, revoked.output
    assert revoked.stdout.strip() == "revoked token 'ci'"
    store = Store(database_url)
    try:
        with pytest.raises(InvalidToken, match="revoked"):
            Tokens(store).verify(token)
    finally:
        store.close()
    assert "ci" not in tempox("token", "list").stdout
    assert "ci" in tempox("token", "list", "--all").stdout
    again = tempox("token", "revoke", "ci")
    assert again.exit_code == 1
    assert again.stderr.strip() == "error: no active token named 'ci'"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--name", "ci", "--scope", "root"], "'root' is not one of 'read', 'ingest'"),
        (["--name", "ci"], "Missing option '--scope'"),
        (["--scope", "read"], "Missing option '--name'"),
        (["--name", "ci", "--scope", "read", "--expires", "soon"], "--expires: invalid duration"),
        (["--name", "two words", "--scope", "read"], "a token name is 1 to 100"),
    ],
)
def test_a_bad_create_names_the_problem(args: list[str], message: str) -> None:
    result = tempox("token", "create", *args)
    assert result.exit_code != 0
    assert message in result.output
    assert "tpx_" not in result.output


def test_a_name_in_use_is_refused() -> None:
    assert tempox("token", "create", "--name", "ci", "--scope", "read").exit_code == 0
    again = tempox("token", "create", "--name", "ci", "--scope", "admin")
    assert again.exit_code == 1
    assert "a token named 'ci' exists already: revoke it first" in again.stderr
