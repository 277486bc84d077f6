"""Cached virtual environments for the orchestrators' own packages (never the project's venv)."""

from __future__ import annotations

import fcntl
import hashlib
import os
import subprocess
import sys
import venv
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("TEMPOX_PEERS_CACHE", ROOT / ".cache" / "peers"))


def ensure_venv(name: str, requirements: Sequence[str]) -> Path:
    """The ``bin`` folder of a venv holding ``requirements``; installed once, then reused.

    A lock file keeps two test processes from installing the same venv at once; a stamp written
    after a successful install marks it complete, so an install cut short is redone.
    """
    key = hashlib.sha256("\n".join(sorted(requirements)).encode()).hexdigest()[:12]
    home = CACHE / f"{name}-{key}"
    stamp = home / ".installed"
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / f"{name}-{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not stamp.exists():
            _install(home, requirements)
            stamp.write_text("\n".join(requirements) + "\n")
    return home / "bin"


def _install(home: Path, requirements: Sequence[str]) -> None:
    if home.exists():
        subprocess.run(["rm", "-rf", str(home)], check=True)
    venv.EnvBuilder(with_pip=True).create(home)
    pip = [
        str(home / "bin" / "python"),
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
    ]
    done = subprocess.run([*pip, *requirements], capture_output=True, text=True)
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise RuntimeError(f"installing {' '.join(requirements)} into {home} failed")
