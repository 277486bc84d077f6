"""Value types of the settings: durations (``30s``, ``1h30m``) and http(s) URLs."""

from __future__ import annotations

import math
import re
from datetime import timedelta
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, BeforeValidator

__all__ = ["Duration", "HttpUrl", "format_duration", "http_url", "parse_duration"]

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"(?:\d+(?:\.\d+)?[smhd])+")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)([smhd])")


def parse_duration(value: object) -> timedelta:
    """``"30s"``, ``"5m"``, ``"1h30m"``, ``"1d"``, or a number of seconds, as a timedelta."""
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str) and _DURATION.fullmatch(text := value.strip().lower()):
        seconds = sum(float(n) * _UNITS[u] for n, u in _DURATION_PART.findall(text))
    elif isinstance(value, str) and _is_number(value):
        seconds = float(value)
    else:
        raise ValueError(f"invalid duration {value!r} (use e.g. 30s, 5m, 1h)")
    if not (math.isfinite(seconds) and seconds > 0):
        raise ValueError(f"invalid duration {value!r}: it must be more than zero")
    return timedelta(seconds=seconds)


def format_duration(value: timedelta) -> str:
    """The shortest spelling :func:`parse_duration` reads back: ``90s`` is ``1m30s``."""
    seconds = value.total_seconds()
    if seconds != int(seconds):
        return f"{seconds:g}s"
    parts, rest = [], int(seconds)
    for unit, size in sorted(_UNITS.items(), key=lambda u: -u[1]):
        if rest >= size:
            parts.append(f"{rest // size}{unit}")
            rest %= size
    return "".join(parts) or "0s"


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


def http_url(value: str) -> str:
    """An http(s) URL with a host, without a trailing slash; else a ValueError naming it."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{value!r} is not an http(s) URL")
    return value.rstrip("/")


HttpUrl = Annotated[str, AfterValidator(http_url)]  # for adapters' server addresses
