"""Push-triggered sync: ``POST /api/v1/sources/{name}/sync``.

An orchestrator calls it when a run finishes (an Airflow listener, a Prefect automation, a
Dagster sensor: see ``examples/``). The source's next sync starts now, or right after the one
under way; calls that arrive before it starts share it. The body is optional: a JSON object
``{"run_id": "...", "pipeline": "..."}`` naming what changed, read first. Answers 202 with the
id of the sync that will serve the call. Needs the ``ingest`` scope.
"""

from __future__ import annotations

import logging
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from api import jsonsafe
from api.auth.middleware import requires
from api.schema.context import run_sync
from catalog.adapter import SyncHint
from catalog.auth.principal import Scope
from catalog.errors import NotFoundError
from catalog.sync_triggers import SourceDisabled, SyncScheduler

__all__ = ["MAX_BODY_BYTES", "PATH", "SyncPush", "parse_hint"]

PATH = "/api/v1/sources/{name}/sync"
MAX_BODY_BYTES = 4096  # two short strings; anything bigger is not a push

log = logging.getLogger("tempox.api.sync")

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=250)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    run_id: Text | None = None
    pipeline: Text | None = None


class BadBody(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def parse_hint(body: bytes, content_type: str | None) -> SyncHint:
    """The hint a request body carries (none when it is empty), or :class:`BadBody` naming
    what is wrong with it."""
    if not body.strip():
        return SyncHint()
    media = (content_type or "").split(";")[0].strip().lower()
    if media != "application/json":
        got = f"'{media}'" if media else "none"
        raise BadBody(415, f"Content-Type must be application/json (got {got})")
    try:
        data = jsonsafe.loads(body, max_depth=2)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadBody(400, f"body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise BadBody(400, 'body must be a JSON object: {"run_id": "...", "pipeline": "..."}')
    try:
        parsed = _Body.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "body"
        reason = (
            "is not a known field (known: run_id, pipeline)"
            if first["type"] == "extra_forbidden"
            else first["msg"].lower()
        )
        raise BadBody(400, f"{field}: {reason}") from None
    return SyncHint(parsed.run_id, parsed.pipeline)


class SyncPush:
    """The endpoint, over the server's scheduler (whose store and sources it uses)."""

    def __init__(self, scheduler: SyncScheduler | None) -> None:
        self.scheduler = scheduler

    def route(self) -> Route:
        return Route(PATH, requires(Scope.INGEST)(self.endpoint), methods=["POST"])

    async def endpoint(self, request: Request) -> Response:
        name = request.path_params["name"]
        try:
            hint = parse_hint(await _read_body(request), request.headers.get("content-type"))
        except BadBody as exc:
            return JSONResponse({"error": exc.message}, status_code=exc.status)
        scheduler = self.scheduler
        if scheduler is None:
            return JSONResponse(
                {"error": f"no source named {name!r} (this server has no configured sources)"},
                status_code=404,
            )
        try:
            accepted = await run_sync(scheduler.push, name, (hint,))
        except NotFoundError as exc:
            return JSONResponse({"error": str(exc)}, status_code=404)
        except SourceDisabled as exc:
            return JSONResponse({"error": str(exc)}, status_code=409)
        body: dict[str, object] = {
            "id": accepted.sync_id,
            "source": accepted.source,
            "followsRunningSync": accepted.follows_running_sync,
        }
        if not scheduler.running:
            body["note"] = (
                "this server does not sync in the background ([server] sync_in_background is "
                "off): the next sync of the source, on any server, serves this request"
            )
        return JSONResponse(body, status_code=202)


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise BadBody(413, f"body is larger than {MAX_BODY_BYTES} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise BadBody(413, f"body is larger than {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
