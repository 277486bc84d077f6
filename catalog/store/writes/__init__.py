"""Writing adapter batches: idempotent bulk upserts that resolve records' references.

Every statement here is a bulk statement (``executemany``, a staged ``COPY``, a lookup or an
``UPDATE ... FROM`` of a whole list bound as one parameter), never one round trip per record,
and every upsert skips rows whose values did not change, so re-syncing the same data neither
changes a value nor rewrites a row.

:mod:`.batch` writes a batch entity by entity; each entity has a module of its own (pipelines
and tasks, runs, task runs, assets, events, checks, lineage, labels), sharing the batch's state
(:class:`.common.Writer`) and how piecemeal observations combine (:mod:`.observations`).
"""

from catalog.store.writes.batch import WriteResult, write_batch
from catalog.store.writes.common import CHUNK, EPOCH, bump, chunks

__all__ = ["CHUNK", "EPOCH", "WriteResult", "bump", "chunks", "write_batch"]
