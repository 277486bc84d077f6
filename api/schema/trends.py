"""Tasks getting slower: a task's latest successful attempts against the ones before them."""

from __future__ import annotations

import strawberry

from api.schema.context import Info
from api.schema.runs import Task, load_task
from catalog import trends


@strawberry.type(
    description="A task whose latest successful attempts take longer than the ones before."
)
class SlowerTask:
    task_pk: strawberry.Private[int]
    recent_runs: int = strawberry.field(description="Latest successful attempts compared.")
    recent_median_seconds: float = strawberry.field(description="Their median duration.")
    baseline_runs: int = strawberry.field(description="Successful attempts before them.")
    baseline_median_seconds: float = strawberry.field(description="Their median duration.")
    ratio: float = strawberry.field(
        description="Recent median over baseline median: 1.5 is half as slow again."
    )

    @classmethod
    def from_trend(cls, tr: trends.Trend) -> SlowerTask:
        return cls(
            task_pk=tr.task_id,
            recent_runs=tr.recent_runs,
            recent_median_seconds=tr.recent_median_s,
            baseline_runs=tr.baseline_runs,
            baseline_median_seconds=tr.baseline_median_s,
            ratio=tr.ratio,
        )

    @strawberry.field
    async def task(self, info: Info) -> Task:
        return await load_task(info, self.task_pk)
