"""The OpenLineage intake: ``POST /api/v1/lineage``, as Marquez serves it.

One event (a RunEvent, DatasetEvent or JobEvent) or a JSON array of them, optionally gzipped
(``Content-Encoding: gzip``, as the openlineage-python HTTP transport can send), sent as
``application/json``. Every event is checked against the spec before anything is written; a
request is stored whole or not at all. Needs the ``ingest`` scope.

The answer (201) counts the events ``stored`` and the ``duplicates`` (deliveries of an event
already stored: same run, event type and event time), and lists ``warnings``: facets that broke
the spec, kept as sent but not read. An event whose own fields break the spec is refused (400).
"""

from __future__ import annotations

import gzip
import logging
import zlib
from collections.abc import Mapping, Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adapters.openlineage import Checked, SpecError, check_event, events_to_batch, received
from api import jsonsafe
from api.auth.middleware import requires
from api.metrics.instruments import LINEAGE_ACCEPTED, LINEAGE_REFUSED
from api.schema.context import run_sync
from catalog.auth.principal import Scope
from catalog.errors import TempoxError
from catalog.records import Batch
from catalog.store.lineage_events import Received
from catalog.store.store import Store

__all__ = ["DEFAULT_SOURCE", "MAX_BODY_BYTES", "MAX_DEPTH", "LineageIntake", "parse_events"]

DEFAULT_SOURCE = "openlineage"
MAX_BODY_BYTES = 5 * 1024 * 1024  # after decompression; a large Spark plan facet is ~1 MB
# Arrays and objects within an event (a batch's array is not counted). The public corpus nests
# 12 deep at most; a Spark schema facet takes two levels per nested struct.
MAX_DEPTH = 64

log = logging.getLogger("tempox.api.openlineage")


class BadRequest(Exception):
    def __init__(self, status: int, message: str, reason: str = "bad_json") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.reason = reason  # one of api.metrics.instruments.REFUSAL_REASONS


def parse_events(body: bytes) -> list[Checked]:
    """Decode and check a request body: one event or an array of events.

    Refused with a 400 naming the field: what is not JSON, what the catalog could not store
    (NaN and infinities, nesting deeper than :data:`MAX_DEPTH`, NUL characters and lone
    surrogates: :mod:`api.jsonsafe`), and every event that breaks the spec or the catalog's
    limits (:func:`adapters.openlineage.check_event`).
    """
    try:
        decoded = jsonsafe.loads(body, max_depth=MAX_DEPTH, batch=True)
    except jsonsafe.JSONError as exc:
        raise BadRequest(400, str(exc)) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(400, f"body is not valid JSON: {exc}") from None
    events = decoded if isinstance(decoded, list) else [decoded]
    checked = []
    for i, event in enumerate(events):
        try:
            checked.append(check_event(event))
        except SpecError as exc:
            where = f"[{i}]." if isinstance(decoded, list) else ""
            raise BadRequest(400, f"{where}{exc}", "invalid_event") from None
    return checked


class LineageIntake:
    """Files pushed events under one source of the store."""

    def __init__(self, store: Store, source: str = DEFAULT_SOURCE) -> None:
        self.store = store
        self.source = source
        self._source_id: int | None = None

    def source_id(self) -> int:
        if self._source_id is None:
            self._source_id = self.store.ensure_source(self.source, "openlineage")
        return self._source_id

    def write(self, events: Sequence[Mapping[str, Any] | Checked]) -> Received:
        """Store events (checked here if they are not yet), each delivery of one only once."""
        checked = [e if isinstance(e, Checked) else check_event(e) for e in events]
        if not checked:
            return Received(stored=0, duplicates=0)

        def to_batch(
            new: Sequence[int], runs: Mapping[str, Any], earlier: Mapping[str, Sequence[Any]]
        ) -> Batch:
            return events_to_batch([checked[i] for i in new], runs=runs, earlier=earlier)

        return self.store.receive(self.source_id(), [received(c) for c in checked], to_batch)

    def route(self) -> Route:
        return Route("/api/v1/lineage", requires(Scope.INGEST)(self.endpoint), methods=["POST"])

    async def endpoint(self, request: Request) -> Response:
        try:
            _check_content_type(request)
            body = await _read_body(request)
            events = parse_events(body)
        except BadRequest as exc:
            LINEAGE_REFUSED.labels(exc.reason).inc()
            return JSONResponse({"error": exc.message}, status_code=exc.status)
        try:
            done = await run_sync(self.write, events)
        except TempoxError as exc:
            # The events are valid but contradict what the source said before (a task run
            # of a run this source has never reported, say): the sender's problem, not ours.
            LINEAGE_REFUSED.labels("conflict").inc()
            return JSONResponse({"error": str(exc)}, status_code=422)
        LINEAGE_ACCEPTED.inc(done.stored)
        many = len(events) != 1
        warnings = [f"[{i}].{w}" if many else w for i, e in enumerate(events) for w in e.warnings]
        answer = {"stored": done.stored, "duplicates": done.duplicates, "warnings": warnings}
        return JSONResponse(answer, status_code=201)


def _check_content_type(request: Request) -> None:
    # JSON only: a web page can POST text/plain or a form to any address without asking first
    # (no CORS preflight), but not application/json.
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/json":
        got = f"'{media}'" if media else "none"
        raise BadRequest(415, f"Content-Type must be application/json (got {got})", "content_type")


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise BadRequest(413, f"body is larger than {MAX_BODY_BYTES} bytes", "too_large")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise BadRequest(413, f"body is larger than {MAX_BODY_BYTES} bytes", "too_large")
        chunks.append(chunk)
    body = b"".join(chunks)
    if request.headers.get("content-encoding", "").lower() == "gzip":
        try:
            # Bounded, so a small bomb cannot expand past the limit in memory.
            inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            body = inflater.decompress(body, MAX_BODY_BYTES + 1)
        except (zlib.error, gzip.BadGzipFile) as exc:
            raise BadRequest(400, f"body is not valid gzip: {exc}", "bad_gzip") from None
        if len(body) > MAX_BODY_BYTES:
            raise BadRequest(
                413, f"body is larger than {MAX_BODY_BYTES} bytes uncompressed", "too_large"
            )
    return body
