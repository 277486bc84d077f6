"""Moving a recording's times forward, so an estate recorded once looks recent whenever it is
replayed: "failed last week" and "stale now" keep their answers.

Times are found in text, whatever the format around them, and each is moved by the same
delta, so durations, orderings and gaps stay exactly as recorded:

- ISO 8601 date-times (Airflow, Prefect, OpenLineage), written back with the same precision
  and offset style;
- Unix seconds and milliseconds (Dagster's ``startTime`` floats and millisecond event
  ``timestamp`` strings), but only inside the recording's own window, so counts and ids that
  merely look like numbers of that size are left alone;
- HTTP dates (the ``Date`` header Prefect reads the server's clock from).

Request keys are masked with the same patterns (:meth:`TimeShift.mask`): a replayed client
asks with shifted times and must find the answer recorded for the original ones.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime

MARGIN = timedelta(days=7)  # how far outside the recording window a Unix time may lie

_ISO = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})[T ](?P<time>\d{2}:\d{2}:\d{2})"
    r"(?:\.(?P<fraction>\d{1,9}))?(?P<zone>Z|[+-]\d{2}:?\d{2})?"
)
_UNIX = re.compile(r"(?<![\w.-])(?P<int>\d{10}|\d{13})(?:\.(?P<fraction>\d{1,9}))?(?![\w:-])")


class TimeShift:
    """Moves times by ``delta``; Unix times only within [``start`` - 7 days, ``end`` + 7 days]."""

    def __init__(self, delta: timedelta, start: datetime, end: datetime) -> None:
        self.delta = delta
        self.low = (start - MARGIN).timestamp()
        self.high = (end + MARGIN).timestamp()

    def text(self, text: str) -> str:
        return _UNIX.sub(self._unix, _ISO.sub(self._iso, text))

    def http_date(self, value: str) -> str:
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return value
        return format_datetime((parsed + self.delta).astimezone(UTC), usegmt=True)

    def mask(self, text: str) -> str:
        """``text`` with every time it holds replaced by ``<time>``."""
        masked = _ISO.sub("<time>", text)
        return _UNIX.sub(lambda m: "<time>" if self._seconds(m) is not None else m[0], masked)

    def _iso(self, m: re.Match[str]) -> str:
        zone = m["zone"]
        try:
            micros = (m["fraction"] or "0")[:6].ljust(6, "0")
            parsed = datetime.fromisoformat(f"{m['date']}T{m['time']}.{micros}{_offset(zone)}")
        except ValueError:
            return m[0]
        if parsed.tzinfo is None:  # a naive time is UTC in every tool recorded here
            parsed = parsed.replace(tzinfo=UTC)
        moved = (parsed + self.delta).astimezone(parsed.tzinfo)
        sep = m[0][10]
        out = moved.strftime(f"%Y-%m-%d{sep}%H:%M:%S")
        if m["fraction"]:
            micros = f"{moved.microsecond:06d}"
            digits = len(m["fraction"])
            # Nanoseconds (OpenLineage allows them) keep their recorded last three digits.
            out += "." + (micros + m["fraction"][6:])[:digits]
        return out + _zone(moved, zone)

    def _unix(self, m: re.Match[str]) -> str:
        seconds = self._seconds(m)
        if seconds is None:
            return m[0]
        scale = 1000 if len(m["int"]) == 13 else 1
        moved = (seconds + self.delta.total_seconds()) * scale
        if not m["fraction"]:
            return str(round(moved))
        digits = len(m["fraction"])
        return f"{moved:.{digits}f}"

    def _seconds(self, m: re.Match[str]) -> float | None:
        value = float(f"{m['int']}.{m['fraction'] or 0}")
        seconds = value / 1000 if len(m["int"]) == 13 else value
        return seconds if self.low <= seconds <= self.high else None


def _offset(zone: str | None) -> str:
    if not zone or zone == "Z":
        return "+00:00" if zone else ""
    return zone if ":" in zone else f"{zone[:3]}:{zone[3:]}"


def _zone(moved: datetime, zone: str | None) -> str:
    """The offset of ``moved``, written as the recording wrote it (none, Z, +01:00, +0100)."""
    if not zone or zone == "Z":
        return zone or ""
    offset = moved.strftime("%z")
    return f"{offset[:3]}:{offset[3:]}" if ":" in zone else offset
