"""A real Airflow 3 stack (api-server, scheduler, dag-processor) on 127.0.0.1, SQLite backed.

Recipe and pitfalls: tests/peers/PEERS.md. The DAGs come from the folder the caller names; the
stack runs in a temporary AIRFLOW_HOME and is stopped with :meth:`AirflowStack.stop`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from tests.peers.processes import Service, free_port, wait_until
from tests.peers.venvs import ensure_venv

AIRFLOW_VERSION = "3.3.2"
USERNAME = "admin"
PASSWORD = "admin-password"
PASSWORD_ENV = "TEMPOX_TEST_AIRFLOW_PASSWORD"  # where the tests give Tempox the password
DONE = {"success", "failed"}


@dataclass
class AirflowStack:
    home: Path
    port: int
    bin: Path
    services: list[Service] = field(default_factory=list)
    _token: str | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- lifecycle ------------------------------------------------------------------------------

    @classmethod
    def start(cls, home: Path, dags: Path, *, expect_dags: int) -> AirflowStack:
        bin_ = ensure_venv("airflow", [f"apache-airflow=={AIRFLOW_VERSION}"])
        stack = cls(home=home, port=free_port(), bin=bin_)
        shutil.copytree(dags, home / "dags", ignore=shutil.ignore_patterns("__pycache__"))
        (home / "logs").mkdir(parents=True, exist_ok=True)
        (home / "passwords.json").write_text(json.dumps({USERNAME: PASSWORD}))
        env = stack.env()
        migrate = subprocess.run(
            [str(bin_ / "airflow"), "db", "migrate"], env=env, capture_output=True, text=True
        )
        if migrate.returncode != 0:
            raise RuntimeError(f"airflow db migrate failed:\n{migrate.stdout}{migrate.stderr}")
        airflow = str(bin_ / "airflow")
        try:
            for name, argv in (
                (
                    "api-server",
                    [airflow, "api-server", "--host", "127.0.0.1", "--port", str(stack.port)],
                ),
                ("scheduler", [airflow, "scheduler", "--skip-serve-logs"]),
                ("dag-processor", [airflow, "dag-processor"]),
            ):
                stack.services.append(Service(f"airflow-{name}", argv, env, home / "logs", home))
            wait_until("the Airflow API to answer", stack._healthy, 180, stack.services)
            wait_until(
                f"Airflow to parse {expect_dags} DAGs",
                lambda: stack.dag_count() >= expect_dags,
                180,
                stack.services,
                interval=1.0,
            )
        except BaseException:
            stack.stop()
            raise
        return stack

    def env(self) -> dict[str, str]:
        h = self.home
        return {
            **{k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")},
            "PATH": f"{self.bin}:{os.environ.get('PATH', '')}",
            "AIRFLOW_HOME": str(h),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{h / 'airflow.db'}",
            "AIRFLOW__CORE__DAGS_FOLDER": str(h / "dags"),
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(self.port),
            "AIRFLOW__API__BASE_URL": self.url,
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.url}/execution/",
            "AIRFLOW__API_AUTH__JWT_SECRET": "tempox-tests-jwt-secret-" + "0123456789abcdef" * 3,
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USERNAME}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(h / "passwords.json"),
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(h / "logs" / "tasks"),
            "AIRFLOW__CORE__FERNET_KEY": "",
            "NO_PROXY": "*",
        }

    def stop(self) -> None:
        for service in reversed(self.services):
            service.stop()
        self.services.clear()

    def _healthy(self) -> bool:
        return httpx.get(f"{self.url}/api/v2/monitor/health", timeout=5).status_code == 200

    # -- API ----------------------------------------------------------------------------------

    def token(self) -> str:
        if self._token is None:
            r = httpx.post(
                f"{self.url}/auth/token",
                json={"username": USERNAME, "password": PASSWORD},
                timeout=30,
            )
            r.raise_for_status()
            self._token = r.json()["access_token"]
        return self._token

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        for _ in range(10):
            r = httpx.request(
                method,
                f"{self.url}/api/v2{path}",
                headers={"Authorization": f"Bearer {self.token()}"},
                timeout=60,
                **kwargs,
            )
            # SQLite under the scheduler's writes: "database is locked" comes back as a 500.
            if r.status_code != 500 or "Database error" not in r.text:
                break
            time.sleep(1)
        if r.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {r.status_code} {r.text}")
        return r.json() if r.content else None

    def pages(self, path: str, key: str, **params: Any) -> list[dict[str, Any]]:
        """Every item of a list endpoint, paged 100 at a time (the server's cap)."""
        out: list[dict[str, Any]] = []
        while True:
            page = self.api("GET", path, params={**params, "limit": 100, "offset": len(out)})
            out += page[key]
            if not page[key] or len(out) >= page["total_entries"]:
                return out

    def set_paused(self, dag_id: str, paused: bool) -> None:
        self.api("PATCH", f"/dags/{dag_id}", json={"is_paused": paused})

    def dag_count(self) -> int:
        return int(self.api("GET", "/dags", params={"limit": 1})["total_entries"])

    def trigger(self, dag_id: str, conf: dict[str, Any] | None = None) -> str:
        body = {"logical_date": datetime.now(UTC).isoformat(), "conf": conf or {}}
        run = self.api("POST", f"/dags/{dag_id}/dagRuns", json=body)
        return str(run["dag_run_id"])

    def run_state(self, dag_id: str, run_id: str) -> str:
        return str(self.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}")["state"])

    def wait_for_runs(self, runs: list[tuple[str, str]], timeout: float = 300) -> None:
        wait_until(
            f"dag runs {runs} to finish",
            lambda: all(self.run_state(d, r) in DONE for d, r in runs),
            timeout,
            self.services,
            interval=1.0,
        )

    def wait_for_run_of(self, dag_id: str, timeout: float = 300) -> str:
        """The first run of ``dag_id`` (one the scheduler makes), once it has finished."""
        found: list[str] = []

        def finished() -> bool:
            runs = self.api("GET", f"/dags/{dag_id}/dagRuns", params={"limit": 1})["dag_runs"]
            if runs and runs[0]["state"] in DONE:
                found.append(runs[0]["dag_run_id"])
                return True
            return False

        wait_until(f"a finished run of {dag_id}", finished, timeout, self.services, interval=1.0)
        return found[0]

    def wait_quiet(self, timeout: float = 120) -> None:
        """Until no dag run is queued or running."""
        wait_until(
            "Airflow to finish every dag run",
            lambda: (
                self.api(
                    "GET", "/dags/~/dagRuns", params={"state": ["queued", "running"], "limit": 1}
                )["total_entries"]
                == 0
            ),
            timeout,
            self.services,
            interval=1.0,
        )
        time.sleep(0.5)
