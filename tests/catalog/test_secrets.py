"""Secrets never leave: what :mod:`catalog.secrets` masks, and what it leaves alone."""

from __future__ import annotations

import io
import logging
import sys
import uuid
from collections.abc import Iterator
from urllib.parse import quote, quote_plus

import pytest

from catalog.secrets import (
    MASK,
    RedactingFilter,
    forget_secrets,
    install_record_redaction,
    redact,
    redact_record,
    register_secret,
    strip_userinfo,
)


@pytest.fixture
def secret() -> Iterator[str]:
    """A registered secret no other test knows, with characters URL-encoding changes."""
    value = f"S3cret/{uuid.uuid4().hex[:12]} +&x"
    register_secret(value)
    yield value
    forget_secrets()


# -- URLs -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://user:pa55@airflow.example.com/api", "https://airflow.example.com/api"),
        ("http://user@127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://user:p%40ss@host:1/x?y=1#z", "http://host:1/x?y=1#z"),
        ("postgresql+psycopg://me:pw@db/tempox", "postgresql+psycopg://db/tempox"),
        ("https://airflow.example.com/api", "https://airflow.example.com/api"),
        ("http://host/path@not-user-info", "http://host/path@not-user-info"),
        ("not a url", "not a url"),
        ("", ""),
    ],
)
def test_strip_userinfo(url: str, expected: str) -> None:
    assert strip_userinfo(url) == expected


def test_strip_userinfo_of_a_url_python_cannot_split() -> None:
    assert strip_userinfo("http://me:pw@[::1") == "http://[::1"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "cannot reach https://me:pa55@airflow:8080/api: refused",
            "cannot reach https://airflow:8080/api: refused",
        ),
        ("Server error for url 'http://me@h/x'", "Server error for url 'http://h/x'"),
        ('{"url": "https://a:b@h"}', '{"url": "https://h"}'),
        ("two: http://a:b@h1 and https://c:d@h2/x", "two: http://h1 and https://h2/x"),
    ],
)
def test_user_info_in_text_is_removed(text: str, expected: str) -> None:
    assert redact(text) == expected


# -- registered secrets -------------------------------------------------------------------------


def test_a_registered_secret_is_masked_in_every_form(secret: str) -> None:
    for form in (
        secret,
        quote(secret, safe=""),
        quote(secret),
        quote_plus(secret),
        f'"{secret}"',
    ):
        masked = redact(f"before {form} after")
        assert secret not in masked
        assert form not in masked
        assert masked.startswith("before ")
        assert masked.endswith(" after")
        assert MASK in masked


def test_a_registered_secret_is_masked_wherever_it_is(secret: str) -> None:
    masked = redact(f"x{secret}y\n{secret}")
    assert masked == f"x{MASK}y\n{MASK}"


def test_a_secret_that_contains_another_is_masked_whole(secret: str) -> None:
    longer = f"{secret}-and-more"
    register_secret(longer)
    assert redact(f"[{longer}]") == f"[{MASK}]"


def test_short_or_missing_values_are_not_secrets() -> None:
    for value in (None, "", "abc"):
        register_secret(value)
    assert redact("abc and a b c") == "abc and a b c"


def test_forgotten_secrets_are_no_longer_masked() -> None:
    register_secret("forget-me-please")
    assert redact("forget-me-please") == MASK
    forget_secrets()
    assert redact("forget-me-please") == "forget-me-please"


# -- credentials Tempox never read (echoed by a server) -----------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"username": "admin", "password": "hunter2"}', '{"username": "admin", "password": '),
        ("{'password': 'hunter2'}", "{'password': '***'}"),
        ('{"access_token": "eyJ.x.y", "token_type": "bearer"}', '{"access_token": "***", '),
        ('{"api_key": "pnu_abc", "name": "x"}', '{"api_key": "***", "name": "x"}'),
        ('"auth_string":"u:p"', '"auth_string":"***"'),
        ("GET /x?token=abc123&limit=5", "GET /x?token=***&limit=5"),
        ("POST /y?api_key=k1&apikey=k2", "POST /y?api_key=***&apikey=***"),
        ("password=hunter2; path=/", "password=***; path=/"),
        ("client_secret: shh", "client_secret: ***"),
        (
            "  Field required [type=missing, input_value={'user': 'a', 'password': 'hunter2'}, "
            "input_type=dict]",
            "  Field required [type=missing, input_value=***, input_type=dict]",
        ),
    ],
)
def test_credential_keys_are_masked(text: str, expected: str) -> None:
    assert redact(text).startswith(expected)
    assert "hunter2" not in redact(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Authorization: Bearer eyJhbGciOi.payload.sig", "Authorization: Bearer ***"),
        ("authorization: basic dXNlcjpwYXNz", "authorization: basic ***"),
        ("Authorization: Token abcdef123", "Authorization: Token ***"),
        ("Dagster-Cloud-Api-Token: user:abcdef", "Dagster-Cloud-Api-Token: ***"),
        ('{"Authorization": "Bearer abcdefgh"}', '{"Authorization": "***"}'),
        ("authorization=Bearer%20abcdefgh", "authorization=***"),
    ],
)
def test_authorization_headers_are_masked(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Airflow at http://127.0.0.1:8080 refused to sign in user 'admin' (401): wrong "
        "username or password",
        "the token is missing, expired or invalid (403 Invalid JWT token)",
        "sent an answer to POST /auth/token without a token (access_token is not a string)",
        "the token expired; a bearer token without a basic scheme",
        "asset.link by token:ann, secret:santa",
        "write to bob@example.com about the passwords",
        "s3://lake/orders@v2 and dagster://host:3000/a/b",
        "GET /dags?limit=100&offset=0&order_by=dag_id",
        'http://127.0.0.1:8080 "POST /auth/token HTTP/1.1" 201 512',
        "POST /auth/token HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nContent-Length: 52",
        "password_env = AIRFLOW_PASSWORD names the variable",
        "Bearer",
        "",
    ],
)
def test_nothing_else_is_masked(text: str) -> None:
    assert redact(text) == text


# -- log records ----------------------------------------------------------------------------


def record(msg: str, *args: object, exc: bool = False) -> logging.LogRecord:
    exc_info = sys.exc_info() if exc else None
    return logging.LogRecord("tempox.test", logging.WARNING, __file__, 1, msg, args, exc_info)


def test_a_record_is_masked_in_its_arguments_keeping_their_shape(secret: str) -> None:
    r = record('%s - "%s %s" %d', "127.0.0.1", "GET", f"/x?q={secret}", 200)
    redact_record(r)
    assert r.args == ("127.0.0.1", "GET", f"/x?q={MASK}", 200)  # uvicorn's access log unpacks
    assert r.getMessage() == f'127.0.0.1 - "GET /x?q={MASK}" 200'


def test_a_record_whose_template_names_the_credential_is_masked_whole() -> None:
    r = record("signing in with password=%s", "hunter2-unregistered")
    redact_record(r)
    assert r.getMessage() == "signing in with password=***"
    assert r.args is None


def test_a_record_with_an_object_argument_is_masked(secret: str) -> None:
    r = record("failed: %s", ValueError(f"http://me:{secret}@host"))
    redact_record(r)
    assert r.getMessage() == "failed: http://host"


def test_a_record_with_arguments_that_do_not_fit_is_masked(secret: str) -> None:
    r = record("two %s %s", secret)
    redact_record(r)
    assert secret not in r.getMessage()


def test_a_records_traceback_and_stack_are_masked(secret: str) -> None:
    try:
        raise RuntimeError(f"GET https://me:pw@host failed, token={secret}")
    except RuntimeError:
        r = record("boom", exc=True)
    r.stack_info = f"Stack (most recent call last):\n  {secret}"
    redact_record(r)
    text = logging.Formatter().format(r)
    assert "Traceback (most recent call last)" in text
    assert "RuntimeError: GET https://host failed, token=***" in text
    assert secret not in text
    assert "me:pw" not in text


def test_the_filter_masks_what_a_handler_writes(secret: str) -> None:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger(f"tempox.test.{uuid.uuid4().hex}")
    logger.addHandler(handler)
    logger.propagate = False
    logger.warning("key %s at %s", secret, "https://u:p@h")
    assert out.getvalue() == f"key {MASK} at https://h\n"


def test_installed_record_redaction_masks_every_logger(
    secret: str, caplog: pytest.LogCaptureFixture
) -> None:
    install_record_redaction()
    install_record_redaction()  # once is enough; twice changes nothing
    caplog.set_level(logging.DEBUG)
    logging.getLogger("httpx").info("HTTP Request: GET http://me:%s@h/x", secret)
    logging.getLogger("some.library").debug("auth %r", {"password": secret})
    assert caplog.records
    for r in caplog.records:
        assert secret not in r.getMessage()
    assert secret not in caplog.text
    assert "GET http://h/x" in caplog.text
