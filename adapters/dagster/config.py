"""The keys of a ``[sources.<name>] kind = "dagster"`` table."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from pydantic import Field, StringConstraints, field_validator

from adapters.dagster.keys import AssetRule
from catalog.adapter import AdapterConfig
from catalog.config import Duration, HttpUrl


class DagsterConfig(AdapterConfig):
    """A dagster-webserver (``http://dagster:3000``) or a Dagster+ deployment
    (``https://<org>.dagster.cloud/<deployment>``, with ``token_env``); the GraphQL endpoint is
    ``<url>/graphql``."""

    url: HttpUrl
    token_env: str | None = None  # environment variable holding a Dagster+ user token
    ui_url: HttpUrl | None = None  # the UI for deep links; ``url`` when absent
    verify_tls: bool = True
    ca_bundle: str | None = None
    timeout: Duration = timedelta(seconds=30)
    page_size: int = Field(default=100, ge=1, le=1000)  # runs per page
    # How far behind the last sync's start each sync re-reads (late writes, skewed clocks).
    overlap: Duration = timedelta(minutes=2)
    # Asset key → canonical identity; the first rule whose prefix matches wins (keys.py).
    asset_rules: tuple[AssetRule, ...] = ()
    # Job (and run) tags that name who owns them, read in this order. The value of a tag
    # named ``team`` (or ``…/team``) is spelled ``team:<value>``, as Dagster spells team owners
    # of assets.
    owner_tags: tuple[Annotated[str, StringConstraints(min_length=1)], ...] = (
        "team",
        "owner",
        "dagster/owner",
    )

    @field_validator("url", "ui_url")
    @classmethod
    def _root(cls, value: str | None) -> str | None:
        # The GraphQL endpoint given for the server it belongs to.
        return None if value is None else value.rstrip("/").removesuffix("/graphql")

    @property
    def graphql_url(self) -> str:
        return f"{self.url}/graphql"

    @property
    def links(self) -> str:
        return self.ui_url or self.url
