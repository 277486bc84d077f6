"""A real Prefect 3 server on 127.0.0.1, SQLite backed, and the test flows run against it.

Recipe and pitfalls: tests/peers/PEERS.md. The server runs in a temporary PREFECT_HOME and is
stopped with :meth:`PrefectServer.stop`; the flows of ``tests/adapters/prefect/flows/estate.py``
run in the server's own venv (never the project's, whose prefect-client would fight it).
"""

from __future__ import annotations

import base64
import contextlib
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.peers.processes import Service, free_port, wait_until
from tests.peers.venvs import ROOT, ensure_venv

PREFECT_VERSION = "3.8.8"
# The 3.8.8 server needs these with today's registry (PEERS.md): newer FastAPI rejects its
# Body(min_items=...), SQLAlchemy 2.1 breaks its scheduler.
REQUIREMENTS = [f"prefect=={PREFECT_VERSION}", "fastapi<0.151", "sqlalchemy<2.1"]
ESTATE = ROOT / "tests" / "adapters" / "prefect" / "flows" / "estate.py"
PAGE = 200  # the server's cap on limit


@dataclass
class PrefectServer:
    home: Path
    port: int
    bin: Path
    # "user:password" the server demands as HTTP basic auth (PREFECT_SERVER_API_AUTH_STRING).
    auth_string: str | None = None
    services: list[Service] = field(default_factory=list)

    @property
    def root(self) -> str:
        """The server itself (what a proxy forwards to)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """The API, as PREFECT_API_URL and the adapter's ``api_url`` name it."""
        return f"{self.root}/api"

    # -- lifecycle ------------------------------------------------------------------------------

    @property
    def headers(self) -> dict[str, str]:
        """What a request to the API sends to be let in: basic auth when the server wants it."""
        if self.auth_string is None:
            return {}
        token = base64.b64encode(self.auth_string.encode()).decode()
        return {"Authorization": f"Basic {token}"}

    @classmethod
    def start(cls, home: Path, auth_string: str | None = None) -> PrefectServer:
        """A server in ``home``; with ``auth_string`` ("user:password") it refuses, with 401,
        every request but ``GET /health`` that does not send it as HTTP basic auth."""
        bin_ = ensure_venv("prefect", REQUIREMENTS)
        server = cls(home=home, port=free_port(), bin=bin_, auth_string=auth_string)
        (home / "logs").mkdir(parents=True, exist_ok=True)
        argv = [
            str(bin_ / "prefect"),
            "server",
            "start",
            "--host",
            "127.0.0.1",
            "--port",
            str(server.port),
        ]
        try:
            server.services.append(
                Service("prefect-server", argv, server.env(), home / "logs", home)
            )
            wait_until("the Prefect API to answer", server._healthy, 180, server.services)
        except BaseException:
            server.stop()
            raise
        return server

    def env(self, *, client: bool = False) -> dict[str, str]:
        """The server's environment, or with ``client`` that of flows run against it."""
        home = self.home / ("client" if client else "server")
        home.mkdir(parents=True, exist_ok=True)
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")},
            "PATH": f"{self.bin}:{os.environ.get('PATH', '')}",
            "PREFECT_HOME": str(home),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "DO_NOT_TRACK": "1",
            "PREFECT_SERVER_UI_ENABLED": "false",
            "NO_PROXY": "*",
        }
        if client:
            env |= {
                "PREFECT_API_URL": self.url,
                "PREFECT_LOGGING_LEVEL": "WARNING",
                "PYTHONUNBUFFERED": "1",
            }
            if self.auth_string is not None:
                env["PREFECT_API_AUTH_STRING"] = self.auth_string
        else:
            env["PREFECT_API_DATABASE_CONNECTION_URL"] = (
                f"sqlite+aiosqlite:///{home / 'prefect.db'}"
            )
            # Events (assets among them) reach the database only when the persister flushes:
            # every 5 s by default, which the tests would have to sleep through.
            env["PREFECT_SERVER_SERVICES_EVENT_PERSISTER_FLUSH_INTERVAL"] = "0.5"
            if self.auth_string is not None:
                env["PREFECT_SERVER_API_AUTH_STRING"] = self.auth_string
        return env

    def stop(self) -> None:
        for service in reversed(self.services):
            service.stop()
        self.services.clear()

    def _healthy(self) -> bool:
        return httpx.get(f"{self.url}/health", timeout=5).status_code == 200

    # -- flows ----------------------------------------------------------------------------------

    def run_flows(self, *names: str, timeout: float = 600) -> str:
        """Run flows of the estate (all of them without names); their output.

        Flows that fail on purpose are caught inside the script; a non-zero exit is a harness
        failure and raises with the script's output.
        """
        return self.finish(self.start_flows(*names), timeout)

    def start_flows(self, *names: str) -> subprocess.Popen[str]:
        """Start running flows of the estate without waiting; :meth:`finish` waits."""
        return subprocess.Popen(
            [str(self.bin / "python"), str(ESTATE), *names],
            env=self.env(client=True),
            cwd=self.home,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )

    def finish(self, process: subprocess.Popen[str], timeout: float = 600) -> str:
        """Wait for flows :meth:`start_flows` started, and for their events to be stored."""
        try:
            output, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            output, _ = process.communicate()
            raise RuntimeError(
                f"flows {process.args} did not finish in {timeout:.0f}s:\n{output}"
            ) from None
        if process.returncode != 0:
            raise RuntimeError(f"flows {process.args} failed ({process.returncode}):\n{output}")
        self.wait_for_events()
        return output

    def event_count(self) -> int:
        body = {"filter": {"occurred": {"since": "2000-01-01T00:00:00Z"}}, "limit": 1}
        return int(self.api("POST", "/events/filter", json=body)["total"])

    def wait_for_events(self, quiet: float = 2.0, timeout: float = 60) -> None:
        """Until the server has persisted the events the flows sent (the count holds still for
        ``quiet`` seconds): a flow's asset events land some time after it has finished."""
        seen = [self.event_count()]
        steady = [time.monotonic()]

        def settled() -> bool:
            count = self.event_count()
            if count != seen[0]:
                seen[0], steady[0] = count, time.monotonic()
            return time.monotonic() - steady[0] >= quiet

        wait_until("Prefect to persist the flows' events", settled, timeout, self.services, 0.25)

    # -- API ------------------------------------------------------------------------------------

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        for _ in range(10):
            r = httpx.request(
                method, f"{self.url}{path}", timeout=60, headers=self.headers, **kwargs
            )
            # SQLite under the server's own writes: "database is locked" comes back as a 500/503.
            if r.status_code not in (500, 503):
                break
            time.sleep(1)
        if r.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {r.status_code} {r.text}")
        return r.json() if r.content else None

    def filtered(self, path: str, body: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Every item of a ``POST …/filter`` endpoint, paged at the server's cap."""
        out: list[dict[str, Any]] = []
        while True:
            page = self.api("POST", path, json={**(body or {}), "limit": PAGE, "offset": len(out)})
            out += page
            if len(page) < PAGE:
                return out

    def flow_runs(self, body: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        return self.filtered("/flow_runs/filter", body)

    def task_runs(self, body: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        return self.filtered("/task_runs/filter", body)

    def flows(self) -> list[dict[str, Any]]:
        return self.filtered("/flows/filter")

    def deployments(self) -> list[dict[str, Any]]:
        return self.filtered("/deployments/filter")

    def task_run_states(self, task_run_id: str) -> list[dict[str, Any]]:
        """The states a task run went through, oldest first."""
        states: list[dict[str, Any]] = self.api(
            "GET", "/task_run_states/", params={"task_run_id": task_run_id}
        )
        return sorted(states, key=lambda s: s["timestamp"])

    def asset_events(self) -> list[dict[str, Any]]:
        """Every ``prefect.asset.*`` event, following the server's ``next_page`` links."""
        body = {
            "filter": {
                "event": {"prefix": ["prefect.asset."]},
                "occurred": {"since": "2000-01-01T00:00:00Z"},
            },
            "limit": 50,
        }
        page = self.api("POST", "/events/filter", json=body)
        events: list[dict[str, Any]] = list(page["events"])
        while page.get("next_page"):
            r = httpx.get(page["next_page"], timeout=60, headers=self.headers)
            r.raise_for_status()
            page = r.json()
            events += page["events"]
        return events

    # -- deployments ----------------------------------------------------------------------------

    def create_scheduled_deployment(
        self, flow_name: str, name: str, *, cron: str = "*/5 * * * *", tags: tuple[str, ...] = ()
    ) -> str:
        """A deployment of ``flow_name`` (created when absent) on a cron schedule, with its
        future SCHEDULED runs made now rather than at the scheduler's next loop; its id."""
        flow = self.api("POST", "/flows/", json={"name": flow_name})  # returns the existing one
        deployment = self.api(
            "POST",
            "/deployments/",
            json={
                "flow_id": flow["id"],
                "name": name,
                "tags": list(tags),
                "schedules": [{"schedule": {"cron": cron, "timezone": "UTC"}, "active": True}],
            },
        )
        self.api("POST", f"/deployments/{deployment['id']}/schedule", json={"min_runs": 3})
        return str(deployment["id"])

    def scheduled_runs(self, deployment_id: str) -> list[dict[str, Any]]:
        return self.flow_runs(
            {
                "flow_runs": {
                    "deployment_id": {"any_": [deployment_id]},
                    "state": {"type": {"any_": ["SCHEDULED"]}},
                }
            }
        )

    def pause_deployment(self, deployment_id: str) -> None:
        """Pause (which deletes its auto-scheduled runs): stopping alone leaves them (PEERS.md)."""
        self.api("POST", f"/deployments/{deployment_id}/pause_deployment")

    def resume_deployment(self, deployment_id: str) -> None:
        self.api("POST", f"/deployments/{deployment_id}/resume_deployment")

    def set_schedules_active(self, deployment_id: str, active: bool) -> None:
        """Switch every schedule of a deployment on or off, the deployment left as it is."""
        for schedule in self.api("GET", f"/deployments/{deployment_id}")["schedules"]:
            self.api(
                "PATCH",
                f"/deployments/{deployment_id}/schedules/{schedule['id']}",
                json={"active": active},
            )

    def delete_flow(self, flow_name: str) -> None:
        """Delete a flow with its deployments and runs."""
        flow = self.api("GET", f"/flows/name/{flow_name}")
        self.api("DELETE", f"/flows/{flow['id']}")
