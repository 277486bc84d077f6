"""Start and stop server processes of the test session; wait for them to answer."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Service:
    """A process in its own process group, its output in a log file; stopped with its children."""

    def __init__(
        self, name: str, argv: Sequence[str], env: Mapping[str, str], log_dir: Path, cwd: Path
    ) -> None:
        self.name = name
        self.log = log_dir / f"{name}.log"
        with open(self.log, "wb") as out:
            self.process = subprocess.Popen(
                list(argv),
                env=dict(env),
                cwd=cwd,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    def alive(self) -> bool:
        return self.process.poll() is None

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, grace: float = 10.0) -> None:
        if not self.alive():
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(5)


def wait_until(
    what: str,
    check: Callable[[], bool],
    timeout: float,
    services: Sequence[Service] = (),
    interval: float = 0.5,
) -> None:
    """Poll ``check`` until it holds; fail early, with their logs, when a service has died."""
    deadline = time.monotonic() + timeout
    while True:
        dead = [s for s in services if not s.alive()]
        if dead:
            logs = "\n".join(f"--- {s.name} ({s.log}):\n{s.tail()}" for s in dead)
            raise RuntimeError(f"waiting for {what}: a service exited\n{logs}")
        with contextlib.suppress(httpx.HTTPError, OSError):
            if check():
                return
        if time.monotonic() > deadline:
            logs = "\n".join(f"--- {s.name} ({s.log}):\n{s.tail()}" for s in services)
            raise TimeoutError(f"{what} did not happen within {timeout:.0f}s\n{logs}")
        time.sleep(interval)
