"""The HTTP app: GraphQL (GraphiQL in a browser) at ``/graphql``, the web UI, Prometheus
metrics at ``/metrics`` and a health check."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Literal

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from api import web
from api.auth.middleware import Authenticator, AuthMiddleware
from api.graphql_app import GraphQLApp
from api.limits.body import BodyLimit
from api.metrics import SyncMetrics, metrics_route
from api.openlineage import DEFAULT_SOURCE, LineageIntake
from api.schema.context import run_sync
from api.sync_push import SyncPush
from catalog.alerts.service import AlertService
from catalog.auth.tokens import Tokens
from catalog.config import AuthSettings, LimitSettings, Settings
from catalog.secrets import redact
from catalog.service import Catalog
from catalog.store.engine import default_database_url
from catalog.store.store import Store, open_store
from catalog.sync_triggers import SyncScheduler
from catalog.sync_types import SyncObserver

log = logging.getLogger("tempox.api")

BackgroundTask = Callable[[], Awaitable[None]]
DATABASE_URL_ENV = "TEMPOX_DATABASE_URL"


def database_url(settings: Settings | None = None) -> str:
    """The configured database: settings, else ``$TEMPOX_DATABASE_URL``, else the default file."""
    if settings is not None:
        return str(settings.database.url)
    return os.environ.get(DATABASE_URL_ENV) or default_database_url()


def create_app(
    settings: Settings | None = None,
    *,
    catalog: Catalog | None = None,
    lifespan_tasks: Sequence[BackgroundTask] = (),
    cache_responses: bool = True,
    auth: AuthSettings | Literal["settings"] | None = "settings",
    limits: LimitSettings | None = None,
) -> Starlette:
    """The Tempox ASGI app.

    ``catalog`` serves an existing catalog (tests, embedding); otherwise the app opens the
    store that ``settings`` (or the environment) names and closes it on shutdown.
    ``lifespan_tasks`` run for the app's lifetime (the background sync scheduler goes here):
    each starts after startup, is cancelled on shutdown, and if one fails it is logged while
    the API keeps serving. ``cache_responses`` keeps answers to repeated queries until the
    catalog's data changes (see :mod:`api.cache`). ``auth`` is who may use it (by default
    ``settings.auth``; None: open, as on a laptop); every route states the scope it needs
    (:mod:`api.auth`). CORS answers only the origins in ``[server] cors_origins``.
    ``limits`` (by default ``settings.limits``) bound what one request may cost.
    With ``settings``, the background sync scheduler syncs its sources (on ``catalog``'s store
    when one is given) and ``POST /api/v1/sources/{name}/sync`` pushes them (:mod:`api.sync_push`).
    """
    resolved_auth = (
        (settings.auth if settings is not None else None) if auth == "settings" else auth
    )
    owned: Store | None = None
    tasks = list(lifespan_tasks)
    if catalog is None:
        if settings is None:
            owned = Store(database_url())
            catalog = Catalog(owned)
        else:
            owned = open_store(
                settings.database.url,
                auto_upgrade=settings.database.auto_upgrade,
                identity=settings.identity.compile(),
            )
            catalog = Catalog(owned, alerts=settings.alerts)
    serving = catalog
    scheduler: SyncScheduler | None = None
    if settings is not None:
        # The scheduler returns at once when background sync is off (`serve --no-sync`); pushes
        # are then recorded for whichever server syncs next. Alerts are evaluated where syncs
        # run: after each, and on their clock.
        observer: SyncObserver = SyncMetrics()
        if settings.server.sync_in_background:
            alerting = AlertService(serving.store, settings.alerts, catalog=serving)
            observer = alerting.observer(also=observer)
            tasks.append(alerting.run)
        scheduler = SyncScheduler(serving.store, settings, observer=observer)
        tasks.append(scheduler.run)

    async def healthz(_request: Request) -> JSONResponse:
        try:
            version = await run_sync(serving.data_version)
        except Exception as exc:
            log.warning("health check: database unreachable", exc_info=True)
            first_line = next(iter(str(exc).strip().splitlines()), "")
            reason = redact(f"{type(exc).__name__}: {first_line}")
            return JSONResponse(
                {"status": "error", "database": "unreachable", "reason": reason}, status_code=503
            )
        return JSONResponse({"status": "ok", "database": "ok", "dataVersion": version})

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        running = [asyncio.create_task(_supervised(fn)) for fn in tasks]
        try:
            yield
        finally:
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
            graphql.close()
            if owned is not None:
                owned.close()

    intake = LineageIntake(
        serving.store, settings.server.openlineage_source if settings else DEFAULT_SOURCE
    )
    tokens = Tokens(serving.store, clock=serving.clock)
    authenticator = Authenticator(tokens, resolved_auth)
    if limits is None:
        limits = settings.limits if settings is not None else LimitSettings()
    graphql: GraphQLApp = GraphQLApp(
        serving,
        tokens=tokens,
        auth_required=authenticator.required,
        limits=limits,
        cache=cache_responses,
    )
    middleware = [
        Middleware(BodyLimit, paths={"/graphql": limits.max_body_bytes}),
        Middleware(AuthMiddleware, authenticator=authenticator),
    ]
    origins = settings.server.cors_origins if settings is not None else ()
    if origins:
        # Outermost, so a preflight (which carries no token) is answered before auth.
        middleware.insert(
            0,
            Middleware(
                CORSMiddleware,
                allow_origins=list(origins),
                allow_methods=["GET", "POST"],
                allow_headers=["Authorization", "Content-Type", "Content-Encoding"],
                max_age=600,
            ),
        )
    app = Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),  # open: load balancers
            intake.route(),  # ingest
            SyncPush(scheduler).route(),  # ingest
            Route("/graphql", graphql),  # read, write, admin: per operation (api.auth.graphql)
            metrics_route(serving),  # read
            *web.routes(),  # open: the shell and its scripts; the data comes through /graphql
        ],
        middleware=middleware,
        lifespan=lifespan,
    )
    app.state.catalog = serving
    app.state.authenticator = authenticator
    return app


async def _supervised(task: BackgroundTask) -> None:
    try:
        await task()
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("background task %s stopped", getattr(task, "__name__", task))
