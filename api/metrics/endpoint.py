"""``GET /metrics``: the Prometheus exposition, behind the ``read`` scope.

What the process counts (prometheus-client's default registry: requests, cache, intake, syncs,
alert deliveries) and the catalog's state read from the store at this scrape
(:class:`api.metrics.collector.CatalogCollector`), in the text format or OpenMetrics as the
scraper's ``Accept`` asks.
"""

from __future__ import annotations

from prometheus_client import REGISTRY
from prometheus_client.exposition import choose_encoder
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api.auth.middleware import requires
from api.metrics.collector import CatalogCollector, Combined
from api.schema.context import run_sync
from catalog.auth.principal import Scope
from catalog.service import Catalog

__all__ = ["metrics_route"]


def metrics_route(catalog: Catalog) -> Route:
    exposed = Combined([REGISTRY, CatalogCollector(catalog.store, catalog.clock)])

    @requires(Scope.READ)
    async def metrics(request: Request) -> Response:
        encode, content_type = choose_encoder(request.headers.get("accept", ""))
        # The catalog's part reads the database: off the event loop.
        body = await run_sync(encode, exposed)
        return Response(body, media_type=content_type)

    return Route("/metrics", metrics, methods=["GET"])
