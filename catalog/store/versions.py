"""The counters in the ``meta`` table that caches key on (moved by :func:`writes.bump`)."""

from __future__ import annotations

# Moves when the catalog's contents change: every cached answer depends on it.
DATA_VERSION = "data_version"
# Moves when an edge is added: the cached lineage graph depends on it.
LINEAGE_VERSION = "lineage_version"
# Moves with every change to a source's sync state (claimed, a batch, finished, failed, a push
# waiting): what a cached answer that shows sync status depends on, apart from the data. A
# separate counter, so a sync that finds nothing new leaves every other cached answer valid.
SYNC_VERSION = "sync_version"
