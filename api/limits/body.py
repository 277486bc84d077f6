"""Request bodies bounded in bytes before anything reads them whole (413 past the limit)."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.refusal import Refusal

__all__ = ["BodyLimit"]


class BodyLimit:
    """Reads the body of a request to one of ``paths`` (path → most bytes), refusing it with
    413 as soon as it passes the limit, whatever Content-Length claimed (or when it claims too
    much), then hands it on. The paths' own endpoints never see more than their limit."""

    def __init__(self, app: ASGIApp, paths: Mapping[str, int]) -> None:
        self.app = app
        self.paths = dict(paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.paths.get(scope.get("path", "")) if scope["type"] == "http" else None
        if limit is None:
            await self.app(scope, receive, send)
            return
        graphql = scope["path"] == "/graphql"
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _too_large(limit, graphql)(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _too_large(limit, graphql)(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else None
    return None


def _too_large(limit: int, graphql: bool) -> ASGIApp:
    message = f"the request body is larger than {limit:,} bytes ([limits] max_body_bytes)"
    return Refusal(413, "BODY_TOO_LARGE", message).response(graphql)
