"""A real Dagster webserver on 127.0.0.1, SQLite backed, and the test definitions run against it.

Recipe and pitfalls: tests/peers/PEERS.md. The webserver runs with a temporary DAGSTER_HOME and is
stopped with :meth:`DagsterServer.stop` (with its code-server child: they share a process group).
The definitions of ``tests/adapters/dagster/defs/estate.py`` are run by Dagster's own CLI in the
server's venv (never the project's); no daemon is needed, runs execute in the CLI's process and
land in the same instance storage the webserver reads.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.peers.processes import Service, free_port, wait_until
from tests.peers.venvs import ROOT, ensure_venv

DAGSTER_VERSION = "1.13.27"
# dagster-webserver stops at 1.13.27 on the registry while dagster goes further: pin the pair.
REQUIREMENTS = [f"dagster=={DAGSTER_VERSION}", f"dagster-webserver=={DAGSTER_VERSION}"]
DEFS = ROOT / "tests" / "adapters" / "dagster" / "defs"
MODULE = "estate"
FAILING_JOBS = frozenset({"fx_job"})  # jobs of the estate that fail on purpose

# Without a daemon the default (queued) run coordinator never starts a launched run; the new
# freshness policies are evaluated only with ``freshness`` enabled.
DAGSTER_YAML = """\
telemetry:
  enabled: false
run_coordinator:
  module: dagster._core.run_coordinator
  class: DefaultRunCoordinator
freshness:
  enabled: true
"""

# Reports a materialisation from outside Dagster (another tool wrote the table): argv[1] is the
# asset key as a JSON list, argv[2] the metadata as a JSON object.
RUNLESS = """\
import json, sys
import dagster as dg
instance = dg.DagsterInstance.get()
instance.report_runless_asset_event(
    dg.AssetMaterialization(asset_key=json.loads(sys.argv[1]), metadata=json.loads(sys.argv[2]))
)
"""


@dataclass
class DagsterServer:
    home: Path
    port: int
    bin: Path
    services: list[Service] = field(default_factory=list)

    @property
    def root(self) -> str:
        """The webserver itself (what a proxy forwards to)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """The GraphQL endpoint, as the adapter's ``graphql_url`` names it."""
        return f"{self.root}/graphql"

    # -- lifecycle ------------------------------------------------------------------------------

    @classmethod
    def start(cls, home: Path, defs: Path = DEFS, module: str = MODULE) -> DagsterServer:
        """A webserver loading the code location ``module`` from the folder ``defs`` (by
        default the tests' estate)."""
        bin_ = ensure_venv("dagster", REQUIREMENTS)
        home = home.resolve()  # DAGSTER_HOME must be absolute
        server = cls(home=home, port=free_port(), bin=bin_)
        (home / "logs").mkdir(parents=True, exist_ok=True)
        (home / "dagster.yaml").write_text(DAGSTER_YAML)
        argv = [
            str(bin_ / "dagster-webserver"),
            *("-h", "127.0.0.1", "-p", str(server.port), "-m", module, "-d", str(defs)),
        ]
        try:
            server.services.append(
                Service("dagster-webserver", argv, server.env(), home / "logs", defs)
            )
            wait_until("the Dagster webserver to answer", server._healthy, 180, server.services)
        except BaseException:
            server.stop()
            raise
        return server

    def env(self) -> dict[str, str]:
        """The environment of the webserver and of the CLI runs: the same instance (home)."""
        return {
            **{
                k: v
                for k, v in os.environ.items()
                if not k.startswith("DAGSTER_") and k != "PYTHONPATH"
            },
            "PATH": f"{self.bin}:{os.environ.get('PATH', '')}",
            "DAGSTER_HOME": str(self.home),
            "DAGSTER_DISABLE_TELEMETRY": "1",
            "PYTHONUNBUFFERED": "1",
            "NO_PROXY": "*",
        }

    def stop(self) -> None:
        for service in reversed(self.services):
            service.stop()
        self.services.clear()

    def _healthy(self) -> bool:
        return httpx.get(f"{self.root}/server_info", timeout=5).status_code == 200

    # -- runs -----------------------------------------------------------------------------------

    def run_estate(self) -> None:
        """Every asset materialised once (a WARN check fails), fx_job run once (fails in
        ``convert``, ``publish`` never starts), retry_job run once (``flaky`` fails, then
        succeeds on its retry), and a run-less materialisation of
        ``lake/raw/orders`` reported from outside."""
        self.materialize("*")
        self.execute_job("fx_job")
        self.execute_job("retry_job")
        self.report_runless(["lake", "raw", "orders"], {"dagster/row_count": 10})

    def materialize(self, select: str = "*") -> str:
        """Materialise the selected assets of the estate in one run; its output.

        A failed asset check does not fail the run, so a non-zero exit is a harness failure.
        """
        return self.cli(["asset", "materialize", "-m", MODULE, "-d", str(DEFS), "--select", select])

    def execute_job(self, job: str, *, expect_failure: bool | None = None) -> str:
        """Execute a job of the estate in one run; its output.

        Jobs of :data:`FAILING_JOBS` fail on purpose, so their non-zero exit is expected (and
        a zero exit raises); any other job must succeed.
        """
        fails = job in FAILING_JOBS if expect_failure is None else expect_failure
        return self.cli(
            ["job", "execute", "-m", MODULE, "-d", str(DEFS), "-j", job], expect_failure=fails
        )

    def report_runless(self, asset_key: Sequence[str], metadata: dict[str, Any]) -> str:
        """Report a materialisation of ``asset_key`` made outside Dagster (``runId`` "")."""
        return self.python(["-c", RUNLESS, json.dumps(list(asset_key)), json.dumps(metadata)])

    def cli(
        self, args: Sequence[str], *, expect_failure: bool = False, timeout: float = 600
    ) -> str:
        """Run the venv's ``dagster`` CLI against the server's instance; its output."""
        return self._run([str(self.bin / "dagster"), *args], expect_failure, timeout)

    def python(
        self, args: Sequence[str], *, expect_failure: bool = False, timeout: float = 600
    ) -> str:
        """Run the venv's python against the server's instance; its output."""
        return self._run([str(self.bin / "python"), *args], expect_failure, timeout)

    def _run(self, argv: list[str], expect_failure: bool, timeout: float) -> str:
        try:
            done = subprocess.run(
                argv,
                env=self.env(),
                cwd=DEFS,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                text=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired as e:
            output = e.output or ""
            raise RuntimeError(f"{argv[:4]} did not finish in {timeout:.0f}s:\n{output}") from None
        if (done.returncode != 0) != expect_failure:
            expected = "to fail" if expect_failure else "to succeed"
            raise RuntimeError(
                f"{argv[:4]} was expected {expected} but exited {done.returncode}:\n{done.stdout}"
            )
        return done.stdout

    # -- API ------------------------------------------------------------------------------------

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """POST a query to ``/graphql``; its ``data``. GraphQL errors raise with the body."""
        r = httpx.post(self.url, json={"query": query, "variables": variables or {}}, timeout=60)
        if r.status_code >= 400:
            raise RuntimeError(f"POST /graphql: {r.status_code} {r.text}")
        body = r.json()
        if body.get("errors"):
            raise RuntimeError(f"GraphQL errors: {json.dumps(body, indent=2)}")
        data: dict[str, Any] = body["data"]
        return data
