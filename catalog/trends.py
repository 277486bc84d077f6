"""Which tasks are getting slower: each task's latest successful runs against the ones before.

Runs are compared by count, not by calendar: a task's last ``recent`` successful attempts
against its ``baseline`` attempts before them, so an hourly task and a weekly one are judged
on the same footing. Medians, not means, so one stuck attempt does not flag a task. Failed
attempts are left out: a task that fails fast would look faster, one killed by a timeout slower.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from statistics import median

MIN_BASELINE = 3  # fewer attempts before the recent ones are not a trend


@dataclass(frozen=True, slots=True)
class Trend:
    task_id: int
    recent_runs: int
    recent_median_s: float
    baseline_runs: int
    baseline_median_s: float

    @property
    def ratio(self) -> float:
        """Recent median over baseline median: 1.5 means half as slow again."""
        if self.baseline_median_s <= 0:
            return float("inf") if self.recent_median_s > 0 else 1.0
        return self.recent_median_s / self.baseline_median_s


def slower_tasks(
    durations: Iterable[tuple[int, int, float]], recent: int, baseline: int, min_ratio: float
) -> list[Trend]:
    """Tasks whose recent median is at least ``min_ratio`` times their baseline, slowest first.

    ``durations``: ``(task id, rank, seconds)`` with rank 1 for a task's latest successful
    attempt, ranks up to ``recent + baseline``. A task needs ``recent`` recent attempts and
    at least ``min(baseline, MIN_BASELINE)`` before them.
    """
    groups: dict[int, tuple[list[float], list[float]]] = defaultdict(lambda: ([], []))
    for task_id, rank, seconds in durations:
        groups[task_id][0 if rank <= recent else 1].append(seconds)
    trends = [
        Trend(task_id, len(new), median(new), len(old), median(old))
        for task_id, (new, old) in groups.items()
        if len(new) == recent and len(old) >= min(baseline, MIN_BASELINE)
    ]
    found = [tr for tr in trends if tr.ratio >= min_ratio]
    found.sort(key=lambda tr: (-tr.ratio, tr.task_id))
    return found
