"""What the figures were measured on."""

from __future__ import annotations

import os
import platform
from pathlib import Path

import sqlalchemy
from sqlalchemy import Engine, text


def describe(engine: Engine) -> dict[str, str]:
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = "?"
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kb = int(meminfo.read_text().split()[1])
        mem = f"{kb / 1024 / 1024:.0f} GiB"
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            db = "SQLite " + str(conn.execute(text("select sqlite_version()")).scalar())
        else:
            db = str(conn.execute(text("show server_version")).scalar()).split()[0]
            db = f"PostgreSQL {db}"
    return {
        "cpu": f"{cpu}, {os.cpu_count()} cores",
        "memory": mem,
        "python": platform.python_version(),
        "sqlalchemy": sqlalchemy.__version__,
        "database": db,
    }
