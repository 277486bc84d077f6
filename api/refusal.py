"""A request refused before it runs, answered in the shape of the endpoint it was sent to."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.responses import JSONResponse, Response


class Refusal(Exception):
    """Refuse the request with ``status``; ``code`` goes into GraphQL's ``extensions.code``."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        headers: Mapping[str, str] | None = None,
        extensions: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})
        self.extensions = dict(extensions or {})

    def response(self, graphql: bool) -> Response:
        """GraphQL errors for ``/graphql``, ``{"error": …}`` for the other endpoints."""
        body: dict[str, Any] = (
            {
                "errors": [
                    {"message": self.message, "extensions": {"code": self.code, **self.extensions}}
                ]
            }
            if graphql
            else {"error": self.message}
        )
        return JSONResponse(body, status_code=self.status, headers=self.headers)
