"""A nightly pipeline whose ``load`` task slows down while ``extract`` holds steady.

Ten nightly runs: ``extract`` takes 60 s every night; ``load`` takes 100 s for six nights,
then 150, 160, 170 and 400 s (the last one stuck, which a median shrugs off). Night 9's
``load`` also has a failed first attempt of 900 s (a timeout) that must not count. A run 200
days before the others is older than the default 90-day horizon.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from catalog.enums import RunStatus
from catalog.records import Batch, PipelineRecord, RunRecord, TaskRecord, TaskRunRecord

NOW = datetime(2026, 6, 11, 12, tzinfo=UTC)
LOAD_SECONDS = (100, 100, 100, 100, 100, 100, 150, 160, 170, 400)


def night(n: int) -> datetime:
    return datetime(2026, 6, 1, 2, tzinfo=UTC) + timedelta(days=n)


def _attempt(
    run: str, task: str, start: datetime, seconds: float, *, attempt: int = 1, ok: bool = True
) -> TaskRunRecord:
    return TaskRunRecord(
        run,
        task,
        RunStatus.SUCCESS if ok else RunStatus.FAILED,
        attempt=attempt,
        started_at=start,
        ended_at=start + timedelta(seconds=seconds),
    )


def slowing_batch() -> Batch:
    runs, attempts = [], []
    for n, load_s in enumerate(LOAD_SECONDS):
        run, start = f"nightly/{n}", night(n)
        runs.append(RunRecord("nightly", run, RunStatus.SUCCESS, started_at=start))
        attempts.append(_attempt(run, "extract", start, 60))
        if n == 8:
            attempts.append(_attempt(run, "load", start, 900, ok=False))
            attempts.append(_attempt(run, "load", start + timedelta(hours=1), load_s, attempt=2))
        else:
            attempts.append(_attempt(run, "load", start + timedelta(minutes=1), load_s))
    ancient = night(-200)
    runs.append(RunRecord("nightly", "nightly/old", RunStatus.SUCCESS, started_at=ancient))
    attempts.append(_attempt("nightly/old", "load", ancient, 1))
    return Batch(
        cursor={},
        pipelines=(PipelineRecord("nightly", "nightly", owners=("data-eng@acme.io",)),),
        tasks=(
            TaskRecord("nightly", "extract"),
            TaskRecord("nightly", "load", upstream=("extract",)),
        ),
        runs=tuple(runs),
        task_runs=tuple(attempts),
    )
