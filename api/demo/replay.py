"""Recorded HTTP exchanges with a real orchestrator, and a server that answers them again.

A recording (:class:`Cassette`) is every request an adapter made during one sync and what the
real server answered, in order. :class:`ReplayServer` listens on 127.0.0.1 and answers the
same requests with the same answers, times moved forward by a :class:`TimeShift`, so the
adapters' own code (their HTTP clients, paging, mapping) runs unchanged against it.

Requests are matched by method, path, query and body with every time in them masked, since a
replayed client asks with shifted times; identical requests get their answers in recorded
order, the last one repeating. A request that was never recorded gets a 404 that says so.
"""

from __future__ import annotations

import gzip
import json
import re
import threading
from collections import deque
from dataclasses import asdict, dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import unquote

from api.demo.timeshift import TimeShift

SECRET_FIELDS = {"password", "client_secret", "api_key", "token"}
# Query parameters a client makes up afresh every time (Prefect's CSRF client id): matched
# whatever their value.
VOLATILE_PARAMS = re.compile(r"(?<=[?&])(client)=[^&]*")
_KEPT_HEADERS = ("content-type", "date")


@dataclass(frozen=True, slots=True)
class Exchange:
    method: str
    path: str  # with the query string
    body: str  # the request body, secrets redacted
    status: int
    headers: dict[str, str]  # the response headers a client reads: content type and date
    response: str


@dataclass
class Cassette:
    tool: str
    recorded_from: datetime
    recorded_until: datetime
    exchanges: list[Exchange] = field(default_factory=list)

    def save(self, path: Path) -> None:
        data = {
            "tool": self.tool,
            "recorded_from": self.recorded_from.isoformat(),
            "recorded_until": self.recorded_until.isoformat(),
            "exchanges": [asdict(e) for e in self.exchanges],
        }
        text = json.dumps(data, indent=1, ensure_ascii=False) + "\n"
        # mtime=0: the same recording compresses to the same bytes.
        path.write_bytes(gzip.compress(text.encode(), mtime=0))

    @classmethod
    def load(cls, path: Path) -> Cassette:
        data = json.loads(gzip.decompress(path.read_bytes()))
        return cls(
            tool=data["tool"],
            recorded_from=datetime.fromisoformat(data["recorded_from"]),
            recorded_until=datetime.fromisoformat(data["recorded_until"]),
            exchanges=[Exchange(**e) for e in data["exchanges"]],
        )


def redact(body: bytes | str | None) -> str:
    """A request body as text, with credentials in a JSON body replaced by ``<redacted>``."""
    if not body:
        return ""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        data = json.loads(text)
    except ValueError:
        return text
    return json.dumps(_redacted(data), sort_keys=True, separators=(",", ":"))


def _redacted(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: "<redacted>" if k in SECRET_FIELDS else _redacted(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_redacted(v) for v in data]
    return data


class ReplayServer:
    """Answers a cassette's requests on ``url`` until closed (also as a context manager)."""

    def __init__(self, cassette: Cassette, shift: TimeShift) -> None:
        self.shift = shift
        self.misses: list[str] = []
        self._lock = threading.Lock()
        self._answers: dict[tuple[str, str, str], deque[Exchange]] = {}
        for e in cassette.exchanges:
            self._answers.setdefault(self._key(e.method, e.path, e.body), deque()).append(e)
        handler = type("Handler", (_Handler,), {"replay": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> ReplayServer:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def answer(self, method: str, path: str, body: bytes | None) -> Exchange | None:
        key = self._key(method, path, redact(body))
        with self._lock:
            queue = self._answers.get(key)
            if not queue:
                self.misses.append(f"{method} {unquote(path)}")
                return None
            return queue.popleft() if len(queue) > 1 else queue[0]

    def _key(self, method: str, path: str, body: str) -> tuple[str, str, str]:
        path = VOLATILE_PARAMS.sub(r"\1=<any>", unquote(path))
        return method, self.shift.mask(path), self.shift.mask(body)


class _Handler(BaseHTTPRequestHandler):
    replay: ReplayServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        found = self.replay.answer(self.command, self.path, body)
        if found is None:
            detail = f"not in the recording: {self.command} {unquote(self.path)}"
            self._send(404, {"content-type": "application/json"}, json.dumps({"detail": detail}))
            return
        shift = self.replay.shift
        headers = dict(found.headers)
        if "date" in headers:
            headers["date"] = shift.http_date(headers["date"])
        self._send(found.status, headers, shift.text(found.response))

    def _send(self, status: int, headers: dict[str, str], text: str) -> None:
        data = text.encode()
        # Not send_response: it would add today's Date, and the recorded one is the answer.
        self.send_response_only(status)
        headers.setdefault("date", self.date_time_string())
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _handle


def kept_headers(headers: Any) -> dict[str, str]:
    """The response headers a cassette keeps, lower-cased, from ``(name, value)`` pairs."""
    return {k.lower(): v for k, v in headers if k.lower() in _KEPT_HEADERS}
