"""The destination contract and what every kind shares: an HTTP client, secrets, errors."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from catalog.alerts.settings import DestinationSettings
from catalog.errors import TempoxError
from catalog.secrets import redact, register_secret, strip_userinfo


class DeliveryError(TempoxError):
    """A notification was not delivered; ``permanent``: the service refused it as invalid."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(redact(message))
        self.permanent = permanent


@dataclass(frozen=True, slots=True)
class Notification:
    """One outbox row to deliver: ``payload`` is the alert as the engine decided it."""

    id: int
    action: str  # trigger | resolve
    payload: Mapping[str, Any]


class Destination:
    """Base of every kind: ``send`` renders the payload with :meth:`render` and POSTs it."""

    def __init__(self, settings: DestinationSettings, env: Mapping[str, str] | None = None) -> None:
        self.settings = settings
        self.name = settings.name
        self._env = os.environ if env is None else env
        self._client = httpx.Client(
            timeout=settings.timeout.total_seconds(), follow_redirects=False
        )

    def close(self) -> None:
        self._client.close()

    def secret(self, key: str, variable: str) -> str:
        value = self._env.get(variable)
        register_secret(value)  # from now on no error, log line or answer shows it
        if not value:
            raise DeliveryError(
                f"destination {self.name!r}: environment variable {variable} is not set "
                f"(its {key} names it as the place of the secret)"
            )
        return value

    def url(self) -> str:
        if self.settings.url_env is not None:
            return self.secret("url_env", self.settings.url_env)
        target = self.settings.target
        assert target is not None  # the settings validator requires url or url_env
        return target

    def send(self, notification: Notification) -> None:
        url, body, headers = self.request(notification)
        self.post(url, body, headers)

    def request(self, notification: Notification) -> tuple[str, bytes, dict[str, str]]:
        """The URL, body and headers to POST."""
        raise NotImplementedError

    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> httpx.Response:
        where = f"destination {self.name!r} ({strip_userinfo(_origin(url))})"
        try:
            response = self._client.post(
                url, content=body, headers={"Content-Type": "application/json", **headers}
            )
        except httpx.HTTPError as exc:
            raise DeliveryError(f"{where}: {type(exc).__name__}: {exc}") from None
        if response.status_code >= 300:
            # The body is the service's word on why; short, and masked like every error.
            reason = response.text.strip().splitlines()[0][:200] if response.text.strip() else ""
            permanent = 400 <= response.status_code < 500 and response.status_code not in (
                408,
                429,
            )
            raise DeliveryError(
                f"{where}: HTTP {response.status_code}" + (f": {reason}" if reason else ""),
                permanent=permanent,
            )
        return response


def _origin(url: str) -> str:
    """Scheme and host only: a webhook URL's path is often its secret (Slack's is)."""
    parts = httpx.URL(url)
    return f"{parts.scheme}://{parts.host}" + (f":{parts.port}" if parts.port else "")


def dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
