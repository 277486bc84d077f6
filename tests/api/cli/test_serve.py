"""``tempox demo`` as ``make run`` starts it: its own folder, a port that may be taken."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner, Result

from api.cli import main

HOLD_LOCK = """
import fcntl, sys, time
lock = open(sys.argv[1], "w")
fcntl.flock(lock, fcntl.LOCK_EX)
print("held", flush=True)
time.sleep(120)
"""


def tempox(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def test_the_demo_database_lives_in_the_state_dir(tmp_path: Path) -> None:
    result = tempox("demo", "--state-dir", str(tmp_path / "demo"), "--no-serve")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "demo" / "demo.db").stat().st_size > 0


def test_a_taken_port_is_refused_before_the_database_is_touched(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    folder.mkdir()
    (folder / "demo.db").write_text("another demo's database")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = tempox("demo", "--port", str(port), "--state-dir", str(folder))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: 127.0.0.1:{port} is taken")
    assert f"make run PORT={port + 10}" in result.stderr
    assert (folder / "demo.db").read_text() == "another demo's database"


def test_a_second_demo_never_deletes_a_running_ones_database(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    folder.mkdir()
    (folder / "demo.db").write_text("the running demo's database")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(folder / "demo.lock")],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        result = tempox("demo", "--state-dir", str(folder), "--no-serve")
    finally:
        holder.kill()
        holder.wait()
    assert result.exit_code == 1
    assert "another `tempox demo` is serving" in result.stderr
    assert "--state-dir" in result.stderr
    assert (folder / "demo.db").read_text() == "the running demo's database"
