"""The watermark cursor pull adapters share: ``{"since": <ISO time>}``, the orchestrator's own
clock when the last complete sync began."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from catalog.errors import AdapterError
from catalog.records import Cursor


def read_since(source: str, tool: str, cursor: Cursor | None) -> datetime | None:
    """The watermark of ``cursor`` (None: sync from scratch); a cursor that is not one is an
    error that says how to recover."""
    if not cursor or not cursor.get("since"):
        return None
    try:
        since = datetime.fromisoformat(str(cursor["since"]))
        if since.tzinfo is None:
            raise ValueError("the watermark has no time zone")
    except (TypeError, ValueError) as exc:
        raise AdapterError(
            f"source {source!r}: stored cursor {dict(cursor)!r} is not {tool} cursor "
            f"({exc}); reset the source to sync from scratch"
        ) from None
    return since


def since_cursor(since: datetime | None) -> dict[str, Any]:
    return {"since": since.isoformat() if since else None}
