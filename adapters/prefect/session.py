"""One conversation with a Prefect API through ``prefect-client``'s synchronous client.

Every call goes through :meth:`PrefectSession.call`, which turns what can go wrong (refused
connection, timeout, 401/403, 500, a body that is not the documented JSON) into an
:class:`~catalog.errors.AdapterError` naming the server, the request and the problem. An httpx
event hook counts requests and reads the server's clock from each answer's ``Date``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import pydantic
from prefect.client.orchestration import SyncPrefectClient
from prefect.context import SettingsContext, get_settings_context
from prefect.exceptions import ObjectNotFound
from prefect.settings import PREFECT_CLIENT_MAX_RETRIES

from adapters.prefect.config import PrefectConfig
from catalog.config import read_secret
from catalog.errors import AdapterError
from catalog.secrets import redact, strip_userinfo


class NotFound(AdapterError):
    """The object asked for does not exist (any more)."""


class PrefectSession:
    def __init__(self, source: str, config: PrefectConfig) -> None:
        self.source = source
        self.config = config
        self.requests = 0
        self.server_time: datetime | None = None
        # The client reads its retries from Prefect's settings when it sends. They are made
        # once per session (a copy costs tens of milliseconds) and made current around each
        # call; the current settings are a context variable, so sync threads do not mix.
        current = get_settings_context()
        self._profile = current.profile
        self._settings = current.settings.copy_with_update(
            updates={PREFECT_CLIENT_MAX_RETRIES: config.retries}
        )
        api_key = (
            read_secret(source, "api_key_env", config.api_key_env) if config.api_key_env else None
        )
        auth_string = (
            read_secret(source, "auth_string_env", config.auth_string_env)
            if config.auth_string_env
            else None
        )
        timeout = config.timeout.total_seconds()
        verify: bool | str = config.ca_bundle or config.verify_tls
        # Settings current here too: without them, every setting the client reads is a
        # fresh parse of the environment.
        with self._current():
            self.client = SyncPrefectClient(
                config.api_url,
                api_key=api_key,
                auth_string=auth_string,  # sent as HTTP basic auth, in place of the API key
                httpx_settings={
                    "timeout": httpx.Timeout(timeout),
                    "verify": verify,
                    "event_hooks": {"response": [self._on_response]},
                    "http2": False,
                },
            )
            self.client.__enter__()

    def close(self) -> None:
        with self._current():
            self.client.__exit__(None, None, None)

    def _current(self) -> SettingsContext:
        return SettingsContext(profile=self._profile, settings=self._settings)

    def _on_response(self, response: httpx.Response) -> None:
        self.requests += 1
        date = response.headers.get("date")
        if date:
            with contextlib.suppress(TypeError, ValueError):
                self.server_time = parsedate_to_datetime(date).astimezone(UTC)

    def call(self, what: str, method: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        """``method`` of :attr:`client` with the arguments; ``what`` names it in errors."""
        try:
            with self._current():
                return method(*args, **kwargs)
        except ObjectNotFound:
            raise NotFound(f"{self._where()}: {what}: not found") from None
        except httpx.HTTPStatusError as exc:
            raise self._status_error(what, exc.response) from None
        except httpx.TimeoutException:
            raise AdapterError(
                f"{self._where()} did not answer {what} within "
                f"{self.config.timeout.total_seconds():g}s (timeout)"
            ) from None
        except httpx.ConnectError as exc:
            if "ssl" in str(exc).lower() or "certificate" in str(exc).lower():
                raise AdapterError(f"TLS with {self._where()} failed: {_first_line(exc)}") from None
            reason = _first_line(exc)
            if "refused" in reason.lower():
                reason = "connection refused"
            raise AdapterError(f"cannot reach {self._where()}: {reason} ({what})") from None
        except httpx.HTTPError as exc:
            raise AdapterError(f"{self._where()}: {what} failed: {_first_line(exc)}") from None
        except (pydantic.ValidationError, ValueError, TypeError, KeyError) as exc:
            # json.JSONDecodeError is a ValueError: a body that is not the API's JSON.
            raise AdapterError(
                f"{self._where()} sent an answer to {what} that is not the JSON its API "
                f"documents: {_first_line(exc)}"
            ) from None

    def _where(self) -> str:
        return f"Prefect at {strip_userinfo(self.config.api_url)}"

    def _status_error(self, what: str, response: httpx.Response) -> AdapterError:
        status = response.status_code
        if status in (401, 403):
            return AdapterError(
                f"{self._where()} refused {what} ({status}): the credentials (api_key_env or "
                "auth_string_env) are missing, wrong or lack access to this workspace"
            )
        # Masked before it is cut, so that no secret is cut in half.
        body = " ".join(redact(response.text).split())[:200] or "(empty body)"
        return AdapterError(
            f"{self._where()} answered {what} with {status} {response.reason_phrase}: {body}"
        )


def _first_line(exc: BaseException) -> str:
    text = redact(str(exc)).strip().splitlines()
    return text[0] if text else type(exc).__name__
