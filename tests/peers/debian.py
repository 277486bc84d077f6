"""Debian programs the tests and benchmarks run (wrk, prometheus, promtool, alertmanager,
chromium): found on the PATH, else installed with apt-get when running as root (one installer
at a time: xdist workers would trip over apt's own lock), else an error naming the command."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from pathlib import Path

__all__ = ["Missing", "ensure_debian_package", "ensure_program"]

_LOCK = Path("/tmp/tempox-apt.lock")


class Missing(RuntimeError):
    """A program is not installed and cannot be installed here (not root, or no apt-get)."""


def _found(program: str) -> str | None:
    if os.sep in program:
        return program if os.access(program, os.X_OK) else None
    return shutil.which(program)


def ensure_program(program: str, package: str, *, needed_by: str) -> str:
    """``program``'s path; installs Debian's ``package`` with apt-get when it is missing."""
    found = _found(program)
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        with _LOCK.open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            found = _found(program)  # another worker may have installed it meanwhile
            if found:
                return found
            print(f"{program} is missing: installing {package} with apt-get …", flush=True)
            env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
            install = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", package]
            if subprocess.run(install, check=False, env=env).returncode != 0:
                subprocess.run(["apt-get", "update", "-qq"], check=False, env=env)
                subprocess.run(install, check=False, env=env)
            found = _found(program)
            if found:
                return found
    raise Missing(
        f"{needed_by} needs {program}: install it with "
        f"`apt-get update && apt-get install -y {package}` (as root)"
    )


def ensure_debian_package(binary: str, package: str) -> str:
    """The path of ``binary``, installing Debian's ``package`` first when it is missing."""
    return ensure_program(binary, package, needed_by="the test")
