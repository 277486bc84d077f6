"""The web UI: a static single-page app (built from ``web/`` by ``make install``) over /graphql.

The pages are deep links the app routes itself (``/runs/12``, ``/asset?uri=…``), so the server
answers each with the same ``index.html``; only the paths listed here, so a route added later
(``/api/v1/*``, ``/metrics``) is never shadowed. The shell and its scripts hold no data: every
page reads through ``/graphql`` with the user's token, so they are served without one.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

__all__ = ["BUILD", "page", "routes"]

BUILD = Path(__file__).resolve().parent / "web_dist"
STATIC_PREFIX = "/static"
UI_PATHS = (
    "/",
    "/search",
    "/lineage",
    "/runs/{id}",
    "/asset",
    "/graphiql",
    "/signin",
)
NOT_BUILT = "GraphiQL and the web UI are not built: run `make install` (it runs npm in web/).\n"


def page(_request: Request | None = None) -> Response:
    """The app's shell; the browser routes to the page from the URL."""
    index = BUILD / "index.html"
    if not index.is_file():
        return PlainTextResponse(NOT_BUILT, status_code=503)
    # The shell names hashed bundles: a stale one after an upgrade would load missing files.
    return FileResponse(index, headers={"cache-control": "no-cache"})


async def _page(request: Request) -> Response:
    return page(request)


async def _static(scope: Scope, receive: Receive, send: Send) -> None:
    # Looked up per request: a build made while the server runs is served, none is a 503.
    if not BUILD.is_dir():
        await PlainTextResponse(NOT_BUILT, status_code=503)(scope, receive, send)
        return
    await StaticFiles(directory=BUILD)(scope, receive, send)


def routes() -> list[BaseRoute]:
    """The UI's pages and its bundled scripts, styles and fonts."""
    pages: list[BaseRoute] = [Route(path, _page, methods=["GET"]) for path in UI_PATHS]
    return [*pages, Mount(STATIC_PREFIX, app=_static)]
