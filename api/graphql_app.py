"""``/graphql``: Strawberry's ASGI app with what stands between a request and execution.

In order: the request's scope (:mod:`api.auth.graphql`, 401/403), the document's size (413),
the response cache (:mod:`api.cache`), then execution off the server's loop, a few at a time,
within a deadline (:mod:`api.limits.runner`, 503 when too many wait). Execution validates the
document, then refuses one that would cost too much (:class:`api.limits.cost.CostLimit`).
Every request is counted and timed by operation name (:mod:`api.metrics`). The list
operations of ``graphql/operations`` sent verbatim are answered from rows by
:mod:`api.direct` (same answers, same cost limit), the general executor taking anything else.
Posted as JSON, such an operation skips the view's parsing and negotiation (every check above
still applies), and its versions, cache lookup and answer take one trip to a worker thread,
on one database connection (:meth:`catalog.service.Catalog.reading`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

from cross_web import HTTPException
from graphql import GraphQLError
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLRequestData
from strawberry.http.async_base_view import AsyncHTTPRequestAdapter  # type: ignore[attr-defined]
from strawberry.types.execution import ExecutionResult

from api import jsonsafe, web
from api.auth.graphql import required_scopes
from api.auth.middleware import authorize
from api.cache import Encoded, Key, ResponseCache, encode, is_query
from api.direct import Compiled, DirectPath
from api.limits.runner import QueryRunner, QueryTimeout
from api.metrics.instruments import CACHE_LOOKUPS, GRAPHQL_DURATION, GRAPHQL_REQUESTS
from api.metrics.operations import OTHER, operation_label
from api.refusal import Refusal
from api.schema import schema
from api.schema.context import CLOCK_STEP, Context, run_sync
from api.schema.mutation import FIELD_SCOPES
from catalog.auth.principal import Scope as Needed
from catalog.auth.tokens import Tokens
from catalog.config import LimitSettings
from catalog.service import Catalog

__all__ = ["GraphQLApp"]

Kept = tuple[Key, int, datetime]  # a cache key, the sync version and "now" it was read at
MAX_JSON_DEPTH = 64  # request bodies: a query, its variables; deeper is no honest request


class GraphQLApp(GraphQL[Context, None]):
    def __init__(
        self,
        catalog: Catalog,
        *,
        tokens: Tokens,
        auth_required: bool,
        limits: LimitSettings,
        cache: bool = True,
    ) -> None:
        super().__init__(schema, graphql_ide="graphiql")
        self.catalog = catalog
        self.tokens = tokens
        self.auth_required = auth_required
        self.limits = limits
        self.cache = (
            ResponseCache(limits.cache_bytes, limits.cache_entry_bytes)
            if cache and limits.cache_bytes > 0
            else None
        )
        # The list operations of graphql/operations, answered without the general executor.
        self.direct = DirectPath(schema._schema)
        self.runner = QueryRunner(
            concurrency=limits.max_concurrent_queries,
            queue=limits.max_queued_queries,
            timeout_s=limits.query_timeout.total_seconds(),
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            if scope["type"] == "http" and scope["method"] == "POST" and _posts_json(scope):
                body = await _body(receive)
                if await self._compiled_post(scope, body, receive, send):
                    return
                receive = _replay(body, receive)
            await super().__call__(scope, receive, send)
        except Refusal as refusal:
            await refusal.response(graphql=True)(scope, receive, send)

    async def _compiled_post(self, scope: Scope, body: bytes, receive: Receive, send: Send) -> bool:
        """A compiled operation posted as JSON, answered as the view would answer it, without
        the view's parsing and negotiation; False: anything else (the view's turn)."""
        try:
            data = self.decode_json(body)
        except Refusal:
            return False  # the view words it
        if not isinstance(data, dict) or not data.keys() <= _KEYS or data.get("extensions"):
            return False
        query, variables, operation = (
            data.get("query"),
            data.get("variables"),
            data.get("operationName"),
        )
        if not (
            isinstance(query, str)
            and isinstance(variables, dict | None)
            and isinstance(operation, str | None)
            and self.direct.match(query, operation) is not None
        ):
            return False
        request = Request(scope, _replay(body, receive))
        adapter = self.request_adapter_class(request)
        sub_response = await self.get_sub_response(request)
        context = await self.get_context(request, sub_response)
        request_data = GraphQLRequestData(query, variables, operation, None, "http")
        try:
            result = await self.execute_single(
                request, adapter, sub_response, context, None, request_data
            )
        except HTTPException as e:  # as the view answers it
            await PlainTextResponse(e.reason, status_code=e.status_code)(scope, receive, send)
            return True
        response_data = await self.process_result(request, result)
        if result.errors:
            self._handle_errors(result.errors, response_data)
        await self.create_response(response_data, sub_response)(scope, receive, send)
        return True

    def close(self) -> None:
        self.runner.close()

    async def render_graphql_ide(self, request: Request) -> Response:
        authorize(request, {Needed.READ})
        # The web UI's bundled GraphiQL (Strawberry's own page loads it from a CDN).
        return web.page(request)

    def decode_json(self, data: str | bytes) -> object:
        try:
            return jsonsafe.loads(data, max_depth=MAX_JSON_DEPTH)
        except jsonsafe.JSONError as exc:
            raise _bad_json(str(exc)) from None
        except UnicodeDecodeError:
            raise _bad_json("it is not UTF-8 text") from None

    def encode_json(self, data: object) -> str | bytes:
        if isinstance(data, dict) and isinstance(data.get("data"), Encoded) and len(data) == 1:
            raw: bytes = data["data"].raw
            return b'{"data":' + raw + b"}"  # a cached answer, as it was encoded
        return encode(data)

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        query = request_data.query
        operation = request_data.operation_name
        started = time.perf_counter()
        label, outcome = OTHER, "refused"
        try:
            if query is not None:
                # Before anything runs: a refusal is the whole request's 401 or 403.
                authorize(request, set(required_scopes(query, operation, FIELD_SCOPES)))
                self._check_size(query)
                label = operation_label(query, operation)
            result = await self._answer(
                request, request_adapter, sub_response, context, root_value, request_data
            )
            outcome = "error" if result.errors else "ok"
            return result
        except Refusal:
            raise
        except Exception:
            outcome = "error"
            raise
        finally:
            GRAPHQL_REQUESTS.labels(label, outcome).inc()
            GRAPHQL_DURATION.labels(label).observe(time.perf_counter() - started)

    async def _answer(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        query = request_data.query
        operation = request_data.operation_name

        compiled = None if query is None else self.direct.match(query, operation)
        cache = self.cache
        if query is None or request_data.protocol != "http":
            cache = None

        async def execute() -> ExecutionResult:
            return await GraphQL.execute_single(
                self, request, request_adapter, sub_response, context, root_value, request_data
            )

        if compiled is not None:
            # A compiled operation (a query): the versions, the cache and the answer in one
            # trip to a worker thread; the executor's turn only when the direct path declines.
            done = await self._run_sync(
                partial(self._direct, compiled, cache, context, request_data)
            )
            if isinstance(done, ExecutionResult):
                return done
            result = await self._run(execute)
            if cache is None or done is None:
                return result
            return self._keep(cache, *done, result, context)

        if cache is None or query is None or not is_query(query, operation):
            return await self._run(execute)
        # Both read before execution: an answer kept under them is never newer than they say.
        version, sync_version = await run_sync(self.catalog.cache_versions)
        key = cache.key(query, request_data.variables, operation, version)
        now = context.instant()
        cached = cache.get(key, sync_version, now)
        CACHE_LOOKUPS.labels("miss" if cached is None else "hit").inc()
        if cached is not None:
            return cached
        result = await self._run(execute)
        return self._keep(cache, key, sync_version, now, result, context)

    def _direct(
        self,
        compiled: Compiled,
        cache: ResponseCache | None,
        context: Context,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult | Kept | None:
        """In a worker thread: the answer (cached or made), else (declined) where the
        executor's answer is to be kept, or None when it is not to be."""
        kept: Kept | None = None
        with self.catalog.reading():  # the versions and the answer: one connection
            if cache is not None:
                version, sync_version = self.catalog.cache_versions()
                query = request_data.query or ""  # a compiled operation's document
                key = cache.key(query, request_data.variables, request_data.operation_name, version)
                now = context.instant()
                cached = cache.get(key, sync_version, now)
                CACHE_LOOKUPS.labels("miss" if cached is None else "hit").inc()
                if cached is not None:
                    return cached
                kept = (key, sync_version, now)
            data = self.direct.answer(compiled, request_data.variables, context)
        if data is None:
            return kept
        result = ExecutionResult(data=data, errors=None)
        if cache is None or kept is None:
            return result
        return self._keep(cache, *kept, result, context)

    @staticmethod
    def _keep(
        cache: ResponseCache,
        key: Key,
        sync_version: int,
        now: datetime,
        result: ExecutionResult,
        context: Context,
    ) -> ExecutionResult:
        if context.uncacheable:
            return result
        return cache.put(
            key,
            result,
            sync_version if context.read_sync_state else None,
            now if context.read_clock else None,
        )

    async def _run_sync(
        self, call: Callable[[], ExecutionResult | Kept | None]
    ) -> ExecutionResult | Kept | None:
        try:
            return await self.runner.run_sync(call)
        except QueryTimeout as exc:
            return _error(str(exc), "QUERY_TIMEOUT", timeoutSeconds=self.runner.timeout_s)

    async def _run(self, execute: Any) -> ExecutionResult:
        try:
            result: ExecutionResult = await self.runner.run(execute)
        except QueryTimeout as exc:
            return _error(str(exc), "QUERY_TIMEOUT", timeoutSeconds=self.runner.timeout_s)
        return result

    def _check_size(self, query: str) -> None:
        size = len(query.encode("utf-8", "surrogatepass"))
        limit = self.limits.max_document_bytes
        if size > limit:
            raise Refusal(
                413,
                "DOCUMENT_TOO_LARGE",
                f"the GraphQL document is {size:,} bytes; the limit is {limit:,} "
                "([limits] max_document_bytes)",
            )

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        return Context(
            self.catalog,
            request,
            response,
            tokens=self.tokens,
            auth_required=self.auth_required,
            max_query_cost=self.limits.max_query_cost,
            clock_step=CLOCK_STEP,
        )


_KEYS = {"query", "variables", "operationName", "extensions"}


def _posts_json(scope: Scope) -> bool:
    content_type = accept = b""
    for name, value in scope["headers"]:
        if name == b"content-type":
            content_type = value
        elif name == b"accept":
            accept = value
    # Streamed answers (multipart/mixed) and uploads are the view's.
    return (
        content_type.split(b";")[0].strip().lower() == b"application/json"
        and b"multipart" not in accept.lower()
    )


async def _body(receive: Receive) -> bytes:
    parts = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise ClientDisconnect
        parts.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(parts)


def _replay(body: bytes, receive: Receive) -> Receive:
    """``receive`` with the body read from it given again first."""
    given = False

    async def replay() -> Message:
        nonlocal given
        if given:
            return await receive()
        given = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


def _bad_json(problem: str) -> Refusal:
    return Refusal(400, "BAD_REQUEST", f"the request body is not acceptable JSON: {problem}")


def _error(message: str, code: str, **extensions: Any) -> ExecutionResult:
    return ExecutionResult(
        data=None, errors=[GraphQLError(message, extensions={"code": code, **extensions})]
    )
