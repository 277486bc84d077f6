"""Signing in and TLS against a real Airflow: tokens are renewed before they expire and after
the server stops accepting them; certificates are verified unless the source says otherwise."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from adapters.airflow.config import AirflowConfig
from adapters.airflow.session import RENEW_BEFORE_S, AirflowSession
from catalog.errors import AdapterError
from tests.peers.airflow import PASSWORD_ENV, USERNAME, AirflowStack
from tests.peers.proxy import FaultProxy

pytestmark = [pytest.mark.peers, pytest.mark.xdist_group("peers")]


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1"),
            *("-addext", "subjectAltName=IP:127.0.0.1"),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def session(url: str, **options: object) -> AirflowSession:
    config = AirflowConfig.model_validate(
        {"base_url": url, "username": USERNAME, "password_env": PASSWORD_ENV} | options
    )
    return AirflowSession("airflow", config)


def signed_in(proxy: FaultProxy) -> int:
    return sum(r == "POST /auth/token" for r in proxy.requests)


def test_the_token_is_reused_then_renewed_before_it_expires(proxy: FaultProxy) -> None:
    s = session(proxy.url)
    for _ in range(3):
        s.call("GET /dags", s.dags.get_dags, limit=1)
    assert signed_in(proxy) == 1
    s._token_expires = time.time() + RENEW_BEFORE_S / 2  # about to expire
    s.call("GET /dags", s.dags.get_dags, limit=1)
    assert signed_in(proxy) == 2
    assert s._token_expires > time.time() + RENEW_BEFORE_S  # a fresh token's expiry, from its exp


def test_a_token_the_server_no_longer_accepts_is_replaced_once(proxy: FaultProxy) -> None:
    s = session(proxy.url)
    s.call("GET /dags", s.dags.get_dags, limit=1)
    s.client.configuration.access_token = "revoked"
    found = s.call("GET /dags", s.dags.get_dags, limit=1)
    assert found.total_entries > 0
    assert signed_in(proxy) == 2


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_an_untrusted_certificate_is_refused_unless_trusted_or_unchecked(
    airflow: AirflowStack, certificate: tuple[Path, Path]
) -> None:
    tls = FaultProxy(airflow.url, tls=certificate)
    try:
        s = session(tls.url)
        with pytest.raises(AdapterError, match=r"TLS with Airflow at https://127\.0\.0\.1:\d+ "):
            s.call("GET /dags", s.dags.get_dags, limit=1)
        trusted = session(tls.url, ca_bundle=str(certificate[0]))
        assert trusted.call("GET /dags", trusted.dags.get_dags, limit=1).total_entries > 0
        unchecked = session(tls.url, verify_tls=False)
        assert unchecked.call("GET /dags", unchecked.dags.get_dags, limit=1).total_entries > 0
    finally:
        tls.close()
