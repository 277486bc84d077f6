"""Repeat-and-take-the-median timing: the machines here are shared and noisy."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def median_seconds(fn: Callable[[], object], *, repeat: int, warmup: int = 3) -> float:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def interleaved(
    a: Callable[[], object], b: Callable[[], object], *, rounds: int, repeat: int
) -> tuple[float, float]:
    """Medians of ``a`` and ``b`` measured in alternating rounds, so load drifts hit both."""
    xs, ys = [], []
    for _ in range(rounds):
        xs.append(median_seconds(a, repeat=repeat, warmup=1))
        ys.append(median_seconds(b, repeat=repeat, warmup=1))
    return statistics.median(xs), statistics.median(ys)
