"""Debian packages a test needs on the machine (Chromium for the web UI's browser tests):
installed with apt-get when missing, as root, one installer at a time."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from pathlib import Path

_LOCK = Path("/tmp/tempox-apt.lock")


def _found(binary: str) -> str | None:
    if os.sep in binary:
        return binary if os.access(binary, os.X_OK) else None
    return shutil.which(binary)


def ensure_debian_package(binary: str, package: str) -> str:
    """The path of ``binary``, installing Debian's ``package`` first when it is missing."""
    found = _found(binary)
    if found is not None:
        return found
    if os.geteuid() != 0:
        raise RuntimeError(f"{binary} is missing: run `sudo apt-get install -y {package}`")
    with _LOCK.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # xdist workers: apt holds its own lock and fails
        found = _found(binary)
        if found is None:
            env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
            install = ["apt-get", "install", "-y", "--no-install-recommends", package]
            if subprocess.run(install, env=env, check=False).returncode != 0:
                subprocess.run(["apt-get", "update"], env=env, check=True)
                subprocess.run(install, env=env, check=True)
            found = _found(binary)
    if found is None:
        raise RuntimeError(f"apt-get installed {package} but {binary} is still missing")
    return found
