"""A real Prometheus (Debian's) on 127.0.0.1 that scrapes one target every second, with the
repository's rules loaded, and a small client of its HTTP API."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.peers.debian import ensure_program
from tests.peers.processes import Service, free_port, wait_until

RULES = Path(__file__).resolve().parents[2] / "deploy" / "prometheus" / "rules.yml"


def ensure_prometheus() -> str:
    return ensure_program("prometheus", "prometheus", needed_by="the metrics tests")


def ensure_promtool() -> str:
    # promtool ships in Debian's prometheus package.
    return ensure_program("promtool", "prometheus", needed_by="the rules tests")


@dataclass
class Prometheus:
    home: Path
    port: int
    services: list[Service] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @classmethod
    def start(cls, home: Path, target: str, *, token: str | None = None) -> Prometheus:
        """Scrapes ``target`` (``http://host:port``) at ``/metrics`` every second, sending
        ``token`` as a bearer token if given."""
        binary = ensure_prometheus()
        home.mkdir(parents=True, exist_ok=True)
        server = cls(home=home, port=free_port())
        scrape: dict[str, Any] = {
            "job_name": "tempox",
            "scrape_interval": "1s",
            "scrape_timeout": "1s",
            "metrics_path": "/metrics",
            "static_configs": [{"targets": [target.removeprefix("http://")]}],
        }
        if token is not None:
            (home / "token").write_text(token)
            scrape["authorization"] = {"type": "Bearer", "credentials_file": str(home / "token")}
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(RULES)],
            "scrape_configs": [scrape],
        }
        # JSON is YAML: no YAML writer needed.
        (home / "prometheus.yml").write_text(json.dumps(config, indent=2))
        (home / "data").mkdir(parents=True, exist_ok=True)
        argv = [
            binary,
            f"--config.file={home / 'prometheus.yml'}",
            f"--storage.tsdb.path={home / 'data'}",
            f"--web.listen-address=127.0.0.1:{server.port}",
            "--log.level=warn",
        ]
        try:
            server.services.append(
                Service("prometheus", argv, {"PATH": os.environ.get("PATH", "")}, home, home)
            )
            wait_until("Prometheus to be ready", server._ready, 60, server.services)
        except BaseException:
            server.stop()
            raise
        return server

    def stop(self) -> None:
        for service in self.services:
            service.stop()
        self.services.clear()

    def _ready(self) -> bool:
        return httpx.get(f"{self.url}/-/ready", timeout=2).status_code == 200

    def query(self, expr: str) -> list[dict[str, Any]]:
        """The instant vector (or scalar, as one sample) ``expr`` evaluates to now."""
        response = httpx.get(f"{self.url}/api/v1/query", params={"query": expr}, timeout=10)
        body = response.json()
        assert body.get("status") == "success", f"{expr}: {body}"
        data = body["data"]
        if data["resultType"] in ("scalar", "string"):
            return [{"metric": {}, "value": data["result"]}]
        result: list[dict[str, Any]] = data["result"]
        return result

    def values(self, expr: str) -> dict[tuple[tuple[str, str], ...], float]:
        """``expr``'s samples now, keyed by their sorted labels."""
        return {tuple(sorted(s["metric"].items())): float(s["value"][1]) for s in self.query(expr)}

    def targets(self) -> list[dict[str, Any]]:
        response = httpx.get(f"{self.url}/api/v1/targets", timeout=10)
        active: list[dict[str, Any]] = response.json()["data"]["activeTargets"]
        return active

    def wait_for(self, expr: str, timeout: float = 30) -> list[dict[str, Any]]:
        """Poll until ``expr`` returns data; its samples."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.query(expr)
            if found:
                return found
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"{expr} returned nothing within {timeout:.0f}s: targets {self.targets()}"
                )
            time.sleep(0.5)
