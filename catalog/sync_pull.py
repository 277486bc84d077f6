"""What one sync reads, and in what order.

First the runs a push named (its hints), each batch committed on its own without moving the
cursor: a finished run is in the catalog, whole with its task runs, a moment after the push,
not after the source's whole incremental sync. Then the incremental sync from the cursor, as
always. Between two of its batches, hints pushed meanwhile (waiting in the store for the
follow-up sync) are read at once too; the follow-up still runs after this sync, so nothing the
incremental sync had already passed is missed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from catalog.adapter import Adapter, SyncHint
from catalog.errors import AdapterError
from catalog.records import Batch
from catalog.store.store import Store

__all__ = ["Write", "pull"]

log = logging.getLogger("tempox.sync")
timing = logging.getLogger("tempox.sync.timing")

Write = Callable[[Batch, bool], None]  # commit a batch; the flag: move the cursor


def pull(
    store: Store,
    source_id: int,
    name: str,
    adapter: Adapter[Any],
    hints: Sequence[SyncHint],
    write: Write,
) -> None:
    """Read the source through ``adapter`` and ``write`` each batch (see the module)."""
    cursor = store.read_cursor(source_id)
    served: set[SyncHint] = set()
    _hinted(name, adapter, hints, cursor, served, write)
    for batch in adapter.fetch(cursor):
        write(batch, True)
        later = [SyncHint.from_json(h) for h in store.pending_hints(source_id)]
        _hinted(name, adapter, later, cursor, served, write)
    timing.debug("incremental sync done: %s", name)


def _hinted(
    name: str,
    adapter: Adapter[Any],
    hints: Sequence[SyncHint],
    cursor: dict[str, Any] | None,
    served: set[SyncHint],
    write: Write,
) -> None:
    fresh = [h for h in dict.fromkeys(hints) if h not in served and (h.run_id or h.pipeline)]
    if not fresh:
        return
    served.update(fresh)
    # ``hints`` on the records: benchmarks/push_latency.py times each pushed run's stages.
    said = {"hints": tuple(fresh)}
    timing.debug("hinted fetch starts: %s %s", name, [h.to_json() for h in fresh], extra=said)
    try:
        for batch in adapter.fetch_hinted(fresh, cursor):
            timing.debug("hinted batch read: %s", name, extra=said)
            write(batch, False)
            timing.debug("hinted batch committed: %s", name, extra=said)
    except AdapterError as exc:
        # A hint is a shortcut, not the sync: a run the tool no longer knows, say.
        log.info("sync of %s: the pushed hints could not be read: %s", name, exc)
