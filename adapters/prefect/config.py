"""The keys of a ``[sources.<name>] kind = "prefect"`` table."""

from __future__ import annotations

from datetime import timedelta
from typing import Self

from pydantic import Field, model_validator

from catalog.adapter import AdapterConfig
from catalog.config import Duration, HttpUrl


class PrefectConfig(AdapterConfig):
    """A Prefect server (``http://prefect:4200/api``) or a Prefect Cloud workspace
    (``https://api.prefect.cloud/api/accounts/<id>/workspaces/<id>``), with an API key (Cloud)
    or a ``user:password`` auth string (a self-hosted server started with
    ``PREFECT_SERVER_API_AUTH_STRING``) from the environment when it needs one."""

    api_url: HttpUrl
    api_key_env: str | None = None  # environment variable holding the API key (Cloud)
    # Environment variable holding "user:password" for a self-hosted server started with
    # PREFECT_SERVER_API_AUTH_STRING (sent as HTTP basic auth).
    auth_string_env: str | None = None
    ui_url: HttpUrl | None = None  # the UI for deep links; derived from api_url when absent
    verify_tls: bool = True
    ca_bundle: str | None = None
    timeout: Duration = timedelta(seconds=30)
    retries: int = Field(default=2, ge=0, le=10)  # on 429/502/503 and dropped connections
    page_size: int = Field(default=200, ge=1, le=200)  # the server caps pages at 200
    # How far behind the last sync's start each sync re-reads (late writes, skewed clocks).
    overlap: Duration = timedelta(minutes=2)

    @model_validator(mode="after")
    def _one_way_to_sign_in(self) -> Self:
        if self.api_key_env is not None and self.auth_string_env is not None:
            raise ValueError(
                "give either api_key_env (Prefect Cloud) or auth_string_env (a self-hosted "
                "server with PREFECT_SERVER_API_AUTH_STRING), not both"
            )
        return self

    def default_ui_url(self) -> str:
        """Prefect Cloud's app for a workspace API; a server's UI is its API without /api."""
        marker = "api.prefect.cloud/api/accounts/"
        if marker in self.api_url:
            account, _, workspace = self.api_url.split(marker, 1)[1].partition("/workspaces/")
            return f"https://app.prefect.cloud/account/{account}/workspace/{workspace}"
        return self.api_url.removesuffix("/api")
