"""Record the answers of a real Airflow 3 API server as the fixtures of the Airflow unit tests.

Run from the repository root against a server holding finished runs of the test DAGs
(``tests/adapters/airflow/dags``)::

    .venv/bin/python -m tests.adapters.airflow.record_fixtures http://127.0.0.1:8080

Only GET requests (and the sign-in): nothing on the server changes. Every answer is written
as the server sent it, only pretty-printed, to ``tests/fixtures/airflow/<name>.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import quote

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "airflow"
USERNAME = "admin"
PASSWORD = "admin-password"


class Recorder:
    def __init__(self, url: str, username: str, password: str, out: Path) -> None:
        self.url = url.rstrip("/")
        self.out = out
        self.token = self._sign_in(username, password)

    def _sign_in(self, username: str, password: str) -> str:
        body = json.dumps({"username": username, "password": password}).encode()
        request = urllib.request.Request(
            f"{self.url}/auth/token",
            data=body,
            headers={"Content-Type": "application/json", "Accept": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            token: str = json.load(response)["access_token"]
        return token

    def get(self, path: str) -> Any:
        request = urllib.request.Request(
            f"{self.url}/api/v2{path}",
            headers={"Authorization": f"Bearer {self.token}", "Accept": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)

    def record(self, name: str, path: str) -> Any:
        answer = self.get(path)
        target = self.out / f"{name}.json"
        target.write_text(json.dumps(answer, indent=2, ensure_ascii=False) + "\n")
        print(f"{target}: GET /api/v2{path}")
        return answer


def _one_run(runs: list[dict[str, Any]], dag_id: str) -> str:
    found = [r["dag_run_id"] for r in runs if r["dag_id"] == dag_id]
    if len(found) != 1:
        sys.exit(f"expected one run of {dag_id} on the server, found {len(found)}")
    return str(found[0])


def record_all(r: Recorder) -> None:
    r.record("dags", "/dags")
    r.record("tasks_tempox_etl", "/dags/tempox_etl/tasks")
    r.record("tasks_tempox_failing", "/dags/tempox_failing/tasks")
    runs = r.record("dag_runs", "/dags/~/dagRuns")["dag_runs"]
    r.record("task_instances", "/dags/~/dagRuns/~/taskInstances?limit=100")
    retries = quote(_one_run(runs, "tempox_retries"), safe="")
    r.record(
        "tries_tempox_retries_flaky",
        f"/dags/tempox_retries/dagRuns/{retries}/taskInstances/flaky/tries",
    )
    # Structured logs (JSON) of the failed tries: what a failed task's error is read from.
    failing = quote(_one_run(runs, "tempox_failing"), safe="")
    r.record(
        "log_tempox_failing_transform_1",
        f"/dags/tempox_failing/dagRuns/{failing}/taskInstances/transform/logs/1?full_content=true",
    )
    # The DAG's transform raises while handling a KeyError (transform_1 was recorded before
    # it did); a new recording writes the chained log under both names.
    r.record(
        "log_tempox_failing_transform_chained",
        f"/dags/tempox_failing/dagRuns/{failing}/taskInstances/transform/logs/1?full_content=true",
    )
    r.record(
        "log_tempox_retries_flaky_1",
        f"/dags/tempox_retries/dagRuns/{retries}/taskInstances/flaky/logs/1?full_content=true",
    )
    r.record("assets", "/assets")
    r.record("asset_events", "/assets/events")
    consumer = quote(_one_run(runs, "tempox_consumer"), safe="")
    r.record(
        "upstream_asset_events",
        f"/dags/tempox_consumer/dagRuns/{consumer}/upstreamAssetEvents",
    )
    r.record("import_errors", "/importErrors")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="the Airflow API server, e.g. http://127.0.0.1:8080")
    parser.add_argument("--username", default=USERNAME)
    parser.add_argument("--password", default=PASSWORD)
    parser.add_argument("--out", type=Path, default=FIXTURES)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    record_all(Recorder(args.url, args.username, args.password, args.out))


if __name__ == "__main__":
    main()
