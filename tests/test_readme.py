"""The README's five questions, pasted as they are written, against a demo started as
``make run`` starts it: on any day, whatever ids the load gave the runs.

Each ``bash`` block runs in one shell, in order (later blocks use what earlier ones found),
with only the port changed. A ``console`` block after it must equal the block's output line for
line; a ``text`` block is an example whose values vary (with the hour, say), so only its shape
is checked.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
SECTION = re.compile(r"^## The five questions.*?(?=^## )", re.S | re.M)
FENCE = re.compile(r"^```(\w+)\n(.*?)^```", re.S | re.M)
MARK = "--- tempox readme block ---"

pytestmark = pytest.mark.slow


def blocks() -> list[tuple[str, str]]:
    section = SECTION.search((ROOT / "README.md").read_text())
    assert section, "README.md has no '## The five questions' section"
    return [(m.group(1), m.group(2)) for m in FENCE.finditer(section.group(0))]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    state = tmp_path_factory.mktemp("demo")
    tempox = Path(sys.executable).with_name("tempox")
    server = subprocess.Popen(
        [str(tempox), "demo", "--port", str(port), "--state-dir", str(state)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            if server.poll() is not None:
                pytest.fail(f"tempox demo exited: {server.stderr.read() if server.stderr else ''}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "tempox demo did not answer within 120 s"
            time.sleep(0.3)
        yield port
    finally:
        server.terminate()
        server.wait(20)


def test_the_five_questions_run_as_written(demo: int) -> None:
    if not (shutil.which("curl") and shutil.which("jq")):
        pytest.fail("the README's blocks need curl and jq (apt-get install curl jq)")
    found = blocks()
    scripts = [body for kind, body in found if kind == "bash"]
    assert len(scripts) == 6  # q(), then one per question
    script = f"\necho '{MARK}'\n".join(scripts).replace("127.0.0.1:8000", f"127.0.0.1:{demo}")
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "LC_ALL": "C"},
    )
    assert done.returncode == 0, done.stderr
    outputs = done.stdout.split(MARK + "\n")
    assert len(outputs) == len(scripts)
    answers = iter(outputs)
    checked = 0
    for (kind, body), following in zip(found, [*found[1:], ("", "")], strict=True):
        if kind != "bash":
            continue
        got = next(answers)
        follow_kind, expected = following
        if follow_kind == "console":
            assert got == expected, f"the README's answer to\n{body}\nis now\n{got}"
            checked += 1
        elif follow_kind == "text":
            lines = got.splitlines()
            assert lines, f"no answer to\n{body}"
            assert all("errors" not in json.loads(line) for line in lines)
    assert checked == 4
