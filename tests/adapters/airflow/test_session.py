"""The session's helpers that need no server: reading a JWT's expiry, trimming error bodies."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest
from airflow_client.client.exceptions import ApiException

from adapters.airflow.config import AirflowConfig
from adapters.airflow.session import (
    AirflowSession,
    _detail,
    _first_line,
    _jwt_expiry,
    _snippet,
    _token_refused,
)
from catalog.errors import ConfigError

NOW = 1_800_000_000.0


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt(claims: Any) -> str:
    """A JWT as Airflow hands one out (HS512), signed with nonsense: nothing here verifies."""
    header = b64url(json.dumps({"alg": "HS512", "kid": "not-used", "typ": "JWT"}).encode())
    return f"{header}.{b64url(json.dumps(claims).encode())}.{b64url(b'signature')}"


@pytest.fixture
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> float:
    monkeypatch.setattr(time, "time", lambda: NOW)  # the clock session.py reads
    return NOW


# -- _jwt_expiry --------------------------------------------------------------------------------


@pytest.mark.parametrize("exp", [1_893_456_000, 1_893_456_000.5, 1, 4_102_444_800])
def test_the_expiry_is_the_exp_claim(exp: float) -> None:
    claims = {"sub": "1", "aud": "apache-airflow", "iat": 1_700_000_000, "exp": exp}
    assert _jwt_expiry(jwt(claims)) == float(exp)


@pytest.mark.parametrize("length", range(4))
def test_payloads_of_any_length_decode_without_padding(length: int) -> None:
    # base64url without "=": the payload's length modulo 4 varies with its content.
    claims = {"exp": 1_893_456_000, "sub": "x" * length}
    token = jwt(claims)
    assert "=" not in token
    assert _jwt_expiry(token) == 1_893_456_000.0


def test_url_safe_characters_in_the_payload() -> None:
    # "?>" and "~~" encode to "-" and "_" in base64url (to "+" and "/" in plain base64).
    claims = {"exp": 1_893_456_000, "note": "?>?>~~~"}
    token = jwt(claims)
    assert set(token.split(".")[1]) & {"-", "_"}
    assert _jwt_expiry(token) == 1_893_456_000.0


@pytest.mark.parametrize(
    "token",
    [
        "",
        "opaque-api-token",
        "only.",
        "a.b.c",  # not base64 of JSON
        f"x.{b64url(b'not json')}.y",
        f"x.{b64url(bytes([0xFF, 0xFE, 0x00]))}.y",  # not UTF-8
        jwt({"sub": "1"}),  # no exp
        jwt({"exp": None}),
        jwt({"exp": "tomorrow"}),
        jwt({"exp": [1]}),
        jwt([1, 2, 3]),  # claims that are not an object
        jwt(None),
        "x.!!!.y",  # not base64 at all
    ],
)
def test_tokens_without_a_readable_expiry_are_renewed_in_five_minutes(
    token: str, frozen_clock: float
) -> None:
    assert _jwt_expiry(token) == frozen_clock + 300.0


# -- _snippet -----------------------------------------------------------------------------------


def test_snippet_of_nothing() -> None:
    assert _snippet(None) == "(no body)"
    assert _snippet(b"") == "(empty body)"
    assert _snippet("  \n\t ") == "(empty body)"


def test_snippet_folds_whitespace() -> None:
    body = '{\n  "detail": "Not Found"\n}\n'
    assert _snippet(body) == '{ "detail": "Not Found" }'
    assert _snippet(body.encode()) == '{ "detail": "Not Found" }'


def test_snippet_trims_long_bodies() -> None:
    body = "<html>" + "x" * 500 + "</html>"
    trimmed = _snippet(body)
    assert trimmed == body[:200] + "…"
    assert _snippet(body, 10) == "<html>xxxx…"


def test_snippet_keeps_a_body_of_exactly_the_limit() -> None:
    assert _snippet("y" * 200) == "y" * 200
    assert _snippet("y" * 201) == "y" * 200 + "…"


def test_snippet_of_bytes_that_are_not_utf8() -> None:
    assert _snippet(b"bad \xff byte") == "bad \ufffd byte"


# -- error bodies -------------------------------------------------------------------------------


def test_detail_reads_fastapi_errors() -> None:
    assert _detail('{"detail": "Invalid JWT token"}') == "Invalid JWT token"
    assert _detail('{"detail": [{"loc": ["query", "limit"]}]}') == "query.limit"
    assert _detail("Bad Gateway") == "Bad Gateway"
    assert _detail(None) == "(no body)"


def test_detail_never_shows_the_input_a_validation_error_echoes() -> None:
    """FastAPI's 422 to a sign-in quotes the request, password included: only the place and
    the message of each problem are shown."""
    body = json.dumps(
        {
            "detail": [
                {
                    "type": "missing",
                    "loc": ["body", "username"],
                    "msg": "Field required",
                    "input": {"user": "admin", "password": "hunter2-unregistered"},
                },
                {"type": "extra_forbidden", "loc": ["body", "user"], "msg": "Extra inputs"},
            ]
        }
    )
    assert _detail(body, 200) == "body.username: Field required; body.user: Extra inputs"
    assert _detail(body.encode(), 200) == _detail(body, 200)


def test_detail_never_shows_the_input_pydantic_quotes() -> None:
    """What Airflow 3.3.2 answers (422) to a sign-in whose ``username`` is misspelt: pydantic's
    text, which quotes the request (cut in the middle, so the password's end shows)."""
    text = (
        "2 validation errors for LoginBody\nusername\n  Field required [type=missing, "
        "input_value={'usrname': 'admin', 'pas...334bababe54fe2a2f3ed30'}, input_type=dict]\n"
        "    For further information visit https://errors.pydantic.dev/2.14/v/missing\n"
        "usrname\n  Extra inputs are not permitted [type=extra_forbidden, "
        "input_value='admin', input_type=str]\n"
        "    For further information visit https://errors.pydantic.dev/2.14/v/extra_forbidden"
    )
    assert _detail(json.dumps({"detail": text}), 200) == (
        "username: Field required; usrname: Extra inputs are not permitted"
    )


def test_error_bodies_are_masked_before_they_are_cut() -> None:
    body = "x" * 180 + ' "password": "hunter2-unregistered"'
    assert "hunter" not in _snippet(body)
    assert _snippet(body).endswith('"password": "***"')
    assert _detail('{"detail": {"token": "abcdefgh"}}') == '{"token": "***"}'
    assert _first_line(ValueError("GET http://me:hunter2@airflow/x\nmore")) == (
        "GET http://airflow/x"
    )


def test_where_names_the_server_without_its_user_info(monkeypatch: pytest.MonkeyPatch) -> None:
    config = AirflowConfig.model_validate(
        {"base_url": "http://me:hunter2@airflow:8080", "token_env": "T"}
    )
    monkeypatch.setenv("T", "a-token")
    assert AirflowSession("af", config)._where() == "Airflow at http://airflow:8080"


@pytest.mark.parametrize(
    ("status", "body", "refused"),
    [
        (401, '{"detail": "Not authenticated"}', True),
        (403, '{"detail": "Invalid JWT token"}', True),
        (403, '{"detail": "Forbidden"}', False),
        (404, '{"detail": "token not found"}', False),
        (500, None, False),
    ],
)
def test_which_answers_refuse_the_token(status: int, body: str | None, refused: bool) -> None:
    assert _token_refused(ApiException(status=status, reason="x", body=body)) is refused


def test_first_line_of_an_exception() -> None:
    assert _first_line(ValueError("first\nsecond")) == "first"
    assert _first_line(ValueError("")) == "ValueError"


# -- building a session (no request is sent) ------------------------------------------------------


def test_a_session_with_a_ready_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEMPOX_TEST_AF_TOKEN", "ready-token")
    config = AirflowConfig(
        base_url="https://airflow.example.com/",
        token_env="TEMPOX_TEST_AF_TOKEN",
        timeout="45s",
        connect_timeout="3s",
    )
    s = AirflowSession("prod", config)
    try:
        assert s.client.configuration.access_token == "ready-token"
        assert s.client.configuration.host == "https://airflow.example.com"
        assert s.timeout == (3.0, 45.0)
        assert s.requests == 0
        s._sign_in()  # a ready token is never renewed: no request goes out
        assert s.requests == 0
    finally:
        s.close()


def test_a_session_whose_token_variable_is_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TEMPOX_TEST_AF_TOKEN", raising=False)
    config = AirflowConfig(base_url="https://airflow.example.com", token_env="TEMPOX_TEST_AF_TOKEN")
    with pytest.raises(ConfigError, match="TEMPOX_TEST_AF_TOKEN is not set"):
        AirflowSession("prod", config)
