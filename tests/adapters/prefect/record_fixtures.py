"""Record the answers of a real Prefect 3 server as the fixtures of the Prefect unit tests.

Run from the repository root against a server holding one finished run of each flow in
``tests/adapters/prefect/flows/estate.py``::

    .venv/bin/python -m tests.adapters.prefect.record_fixtures http://127.0.0.1:4299/api

Only reads: GET requests and Prefect's ``POST …/filter`` queries; nothing on the server
changes. Every answer is written as the server sent it, only pretty-printed, to
``tests/fixtures/prefect/<name>.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "prefect"
ASSET_EVENTS = [
    "prefect.asset.materialization.succeeded",
    "prefect.asset.materialization.failed",
    "prefect.asset.referenced",
]


class Recorder:
    def __init__(self, url: str, out: Path) -> None:
        self.url = url.rstrip("/")
        self.out = out

    def ask(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.url}{path}",
            data=data,
            headers={"Content-Type": "application/json", "Accept": "application/json"},
            method=method,
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)

    def record(self, name: str, method: str, path: str, body: Any = None) -> Any:
        answer = self.ask(method, path, body)
        target = self.out / f"{name}.json"
        target.write_text(json.dumps(answer, indent=2, ensure_ascii=False) + "\n")
        shown = "" if body is None else f" {json.dumps(body)}"
        print(f"{target}: {method} {path}{shown}")
        return answer


def _one_task_run(task_runs: list[dict[str, Any]], task: str) -> str:
    found = [t["id"] for t in task_runs if t["task_key"].rsplit("-", 1)[0] == task]
    if len(found) != 1:
        sys.exit(f"expected one run of task {task} on the server, found {len(found)}")
    return str(found[0])


def record_all(r: Recorder) -> None:
    r.record("flows", "POST", "/flows/filter", {})
    r.record("deployments", "POST", "/deployments/filter", {})
    r.record("flow_runs", "POST", "/flow_runs/filter", {"limit": 200})
    task_runs = r.record("task_runs", "POST", "/task_runs/filter", {"limit": 200})
    # flaky failed once and succeeded on its retry: its state history tells the attempts apart.
    flaky = _one_task_run(task_runs, "flaky")
    r.record(
        "task_run_states_flaky",
        "GET",
        "/task_run_states/?" + urlencode({"task_run_id": flaky}),
    )
    r.record(
        "asset_events",
        "POST",
        "/events/filter",
        {
            "filter": {
                "event": {"name": ASSET_EVENTS},
                "occurred": {"since": "2000-01-01T00:00:00Z"},
            },
            "limit": 50,
        },
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="the Prefect API, e.g. http://127.0.0.1:4200/api")
    parser.add_argument("--out", type=Path, default=FIXTURES)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    record_all(Recorder(args.url, args.out))


if __name__ == "__main__":
    main()
