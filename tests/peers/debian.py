"""Debian programs the tests and benchmarks run (wrk, prometheus, promtool): found on the
PATH, else installed with apt-get when running as root, else an error naming the command."""

from __future__ import annotations

import os
import shutil
import subprocess

__all__ = ["Missing", "ensure_program"]


class Missing(RuntimeError):
    """A program is not installed and cannot be installed here (not root, or no apt-get)."""


def ensure_program(program: str, package: str, *, needed_by: str) -> str:
    """``program``'s path; installs Debian's ``package`` with apt-get when it is missing."""
    found = shutil.which(program)
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print(f"{program} is missing: installing {package} with apt-get …", flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=False, env=env)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", package],
            check=False,
            env=env,
        )
        found = shutil.which(program)
        if found:
            return found
    raise Missing(
        f"{needed_by} needs {program}: install it with "
        f"`apt-get update && apt-get install -y {package}` (as root)"
    )


def ensure_debian_package(binary: str, package: str) -> str:
    """``binary``'s path, Debian's ``package`` installed first when it is missing (as root)."""
    return ensure_program(binary, package, needed_by="the test")
