"""A real Prometheus Alertmanager (Debian's ``prometheus-alertmanager``) on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from tests.peers.debian import ensure_debian_package
from tests.peers.processes import Service, free_port, wait_until

CONFIG = """\
route:
  receiver: "null"
  group_wait: 1s
receivers:
  - name: "null"
"""


class Alertmanager:
    def __init__(self, url: str, service: Service) -> None:
        self.url = url
        self.service = service

    def alerts(self, **params: Any) -> list[dict[str, Any]]:
        response = httpx.get(f"{self.url}/api/v2/alerts", params=params, timeout=10)
        response.raise_for_status()
        found: list[dict[str, Any]] = response.json()
        return found


@contextmanager
def alertmanager(tmp: Path) -> Iterator[Alertmanager]:
    binary = ensure_debian_package("prometheus-alertmanager", "prometheus-alertmanager")
    (tmp / "alertmanager.yml").write_text(CONFIG)
    port = free_port()
    service = Service(
        "alertmanager",
        [
            binary,
            f"--config.file={tmp / 'alertmanager.yml'}",
            f"--storage.path={tmp / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",  # one instance: no gossip port
        ],
        {"PATH": "/usr/bin:/bin"},
        tmp,
        tmp,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(
            "Alertmanager is ready",
            lambda: httpx.get(f"{url}/-/ready", timeout=2).status_code == 200,
            60,
            [service],
        )
        yield Alertmanager(url, service)
    finally:
        service.stop()
