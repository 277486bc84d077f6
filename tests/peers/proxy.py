"""A forwarding HTTP proxy between Tempox and a real server, which injects faults on request.

Modes: ``pass`` (forward as is), ``down`` (nothing listens: connection refused), ``error``
(answer 500, or another status and body, without asking the server), ``slow`` (wait
``delay`` seconds, then forward), ``garbage`` (answer 200 with a body that is not JSON),
``rewrite`` (forward the request body changed by a function: the real server then answers a
request it finds wrong), ``echo`` (answer ``status``, 500 unless told, with the request line,
every request header by name and the request body, as a misconfigured gateway or a debug
server does). Every request that reaches the proxy is counted, so tests can say how many requests a
sync made. With ``recording`` set to a list, every forwarded exchange is appended to it, as
the demo's recordings keep them (:mod:`api.demo.replay`).
"""

from __future__ import annotations

import http.client
import ssl
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from api.demo.replay import Exchange, kept_headers, redact

Mode = Literal["pass", "down", "error", "slow", "garbage", "rewrite", "drip", "echo"]
GARBAGE = b"<html><body>502 Bad Gateway</body></html>\x00\xff"
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection"}


class FaultProxy:
    def __init__(self, upstream: str, tls: tuple[Path, Path] | None = None) -> None:
        """``tls``: (certificate, key) PEM files to serve HTTPS with."""
        parts = urlsplit(upstream)
        self.upstream_host = parts.hostname or "127.0.0.1"
        self.upstream_port = parts.port or 80
        self.mode: Mode = "pass"
        self.delay = 5.0
        self.only = ""  # faults hit only request paths starting with this
        self.after = 0  # this many more requests pass before faults begin
        self.times: int | None = None  # faults left before requests pass again (None: no end)
        self.rewrite: Callable[[bytes], bytes] = lambda body: body
        self.status, self.body = 500, b"Internal Server Error"
        self.requests: list[str] = []
        self.recording: list[Exchange] | None = None
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0
        self.tls = tls
        self._listen()

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def set(
        self,
        mode: Mode,
        delay: float = 5.0,
        only: str = "",
        after: int = 0,
        rewrite: Callable[[bytes], bytes] | None = None,
        status: int = 500,
        body: bytes = b"Internal Server Error",
        times: int | None = None,
    ) -> None:
        """``status`` and ``body``: what ``error`` answers (a gateway's 502, an empty 503 …);
        ``echo`` answers ``status`` too. ``times``: the fault hits that many requests, then
        they pass again (a token revoked once, say); None: until set otherwise."""
        self.delay, self.only, self.after, self.times = delay, only, after, times
        self.status, self.body = status, body
        self.rewrite = rewrite or (lambda body: body)
        if mode == "down" and self._server is not None:
            self._close()
        elif mode != "down" and self._server is None:
            self._listen()
        self.mode = mode

    def count(self) -> int:
        with self._lock:
            return len(self.requests)

    def close(self) -> None:
        self._close()

    def _listen(self) -> None:
        handler = type("Handler", (_Handler,), {"proxy": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        if self.tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*self.tls)
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def _close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


class _Handler(BaseHTTPRequestHandler):
    proxy: FaultProxy
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _handle(self) -> None:
        proxy = self.proxy
        with proxy._lock:
            proxy.requests.append(f"{self.command} {self.path}")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        with proxy._lock:
            faulty = self.path.startswith(proxy.only) and proxy.after <= 0
            if self.path.startswith(proxy.only):
                proxy.after -= 1
            if faulty and proxy.times is not None:
                faulty = proxy.times > 0
                proxy.times -= 1
        if not faulty:
            self._forward(body)
            return
        if proxy.mode == "error":
            self._answer(proxy.status, proxy.body, "text/plain")
            return
        if proxy.mode == "echo":
            # Headers by name, as debug servers (httpbin's /anything) show them.
            headers = sorted(self.headers.items(), key=lambda kv: kv[0].lower())
            head = [self.requestline, *(f"{k}: {v}" for k, v in headers)]
            echoed = "\r\n".join(head).encode() + b"\r\n\r\n" + (body or b"")
            self._answer(proxy.status, echoed, "text/plain")
            return
        if proxy.mode == "garbage":
            self._answer(200, GARBAGE, "application/json")
            return
        if proxy.mode == "slow":
            time.sleep(proxy.delay)
        if proxy.mode == "rewrite" and body is not None:
            body = proxy.rewrite(body)
            self.headers.replace_header("Content-Length", str(len(body)))
        self._forward(body, drip=proxy.mode == "drip")

    def _forward(self, body: bytes | None, drip: bool = False) -> None:
        proxy = self.proxy
        conn = http.client.HTTPConnection(proxy.upstream_host, proxy.upstream_port, timeout=120)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
            if proxy.recording is not None:  # keep answers readable: no gzip
                headers = {k: v for k, v in headers.items() if k.lower() != "accept-encoding"}
            conn.request(self.command, self.path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            if proxy.recording is not None:
                exchange = Exchange(
                    self.command,
                    self.path,
                    redact(body),
                    response.status,
                    kept_headers(response.getheaders()),
                    data.decode("utf-8"),
                )
                with proxy._lock:
                    proxy.recording.append(exchange)
            self.send_response(response.status, response.reason)
            for key, value in response.getheaders():
                if key.lower() not in _HOP_BY_HOP and key.lower() != "content-length":
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if not drip:
                self.wfile.write(data)
                return
            for i in range(len(data)):
                time.sleep(proxy.delay)
                try:
                    self.wfile.write(data[i : i + 1])
                    self.wfile.flush()
                except OSError:  # the client gave up
                    return
        finally:
            conn.close()

    def _answer(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _handle
