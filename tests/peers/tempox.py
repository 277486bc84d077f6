"""Tempox's own app served by a real uvicorn on 127.0.0.1, in a thread, for producers (the
openlineage-python client) that must reach it over HTTP."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import uvicorn

from api.app import BackgroundTask, create_app
from catalog.config import AuthSettings, LimitSettings, Settings
from catalog.service import Catalog
from catalog.store.store import Store


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # a thread may not install them
        pass


@contextmanager
def serve(
    store: Store,
    auth: AuthSettings | None = None,
    limits: LimitSettings | None = None,
    settings: Settings | None = None,
    port: int | None = None,
    *,
    tasks: Sequence[BackgroundTask] = (),
) -> Iterator[str]:
    """The base URL of a server on ``store`` (requiring ``auth`` if given), until the block
    ends. With ``settings``, its sources sync in the background and can be pushed; ``tasks``
    run for the server's lifetime."""
    if port is None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
    app = create_app(
        settings, catalog=Catalog(store), auth=auth, limits=limits, lifespan_tasks=tasks
    )
    srv = _Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not srv.started:
        if time.monotonic() > deadline:
            raise TimeoutError("the Tempox server did not start within 10s")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(10)
