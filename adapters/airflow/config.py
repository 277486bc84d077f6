"""The keys of a ``[sources.<name>] kind = "airflow"`` table."""

from __future__ import annotations

from datetime import timedelta
from typing import Self

from pydantic import Field, model_validator

from catalog.adapter import AdapterConfig
from catalog.config import Duration, HttpUrl


class AirflowConfig(AdapterConfig):
    """Where the Airflow API server is and how to sign in to it.

    Sign in either with ``username`` and ``password_env`` (a JWT from ``/auth/token``, renewed
    before it expires) or with ``token_env``, a ready bearer token.
    """

    base_url: HttpUrl  # the api-server, e.g. https://airflow.example.com
    username: str | None = None
    password_env: str | None = None  # environment variable holding the password
    token_env: str | None = None  # environment variable holding a bearer token
    verify_tls: bool = True
    ca_bundle: str | None = None  # a PEM file of CA certificates to trust instead of the system's
    timeout: Duration = timedelta(seconds=30)  # per request, waiting for the answer
    connect_timeout: Duration = timedelta(seconds=10)
    page_size: int = Field(default=100, ge=1, le=100)  # the server caps pages at 100
    # How far behind the last sync's start each sync re-reads, for rows committed late and
    # clocks that disagree; re-reading is idempotent, only a little slower.
    overlap: Duration = timedelta(minutes=2)
    ui_url: HttpUrl | None = None  # the UI's address for deep links, when it is not base_url

    @model_validator(mode="after")
    def _one_way_to_sign_in(self) -> Self:
        password = self.username is not None or self.password_env is not None
        if self.token_env is not None and password:
            raise ValueError("give either token_env or username and password_env, not both")
        if self.token_env is None and not (self.username and self.password_env):
            raise ValueError("give username and password_env, or token_env, to sign in")
        return self
