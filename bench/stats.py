"""Summary statistics shared by the benchmarks (pure functions, no I/O)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np


class NotMeasuredError(RuntimeError):
    """A benchmark could not take the measurement it exists for."""


def summary_ms(samples_s: Sequence[float]) -> dict[str, float | int]:
    """Latency figures in milliseconds from samples in seconds: n, p50, p90, p99, mean, max.

    Raises:
        NotMeasuredError: no samples at all (nothing was measured).
    """
    if not samples_s:
        raise NotMeasuredError("no samples")
    values = np.asarray(samples_s, dtype=float) * 1000.0
    p50, p90, p99 = np.percentile(values, [50, 90, 99])
    return {
        "n": int(values.size),
        "p50_ms": rounded(p50),
        "p90_ms": rounded(p90),
        "p99_ms": rounded(p99),
        "mean_ms": rounded(values.mean()),
        "max_ms": rounded(values.max()),
    }


def rounded(value: float, digits: int = 2) -> float:
    """A float rounded for reports (JSON has no numpy types)."""
    return round(float(value), digits)


def ratio(numerator: float, denominator: float) -> float | None:
    """``numerator / denominator`` rounded, or None when the denominator is not positive."""
    if denominator <= 0 or math.isnan(denominator) or math.isnan(numerator):
        return None
    return round(numerator / denominator, 2)


def linear_fit(xs: Sequence[float], ys: Sequence[float]) -> tuple[float, float]:
    """Least-squares slope and intercept; needs two distinct x values."""
    if len(set(xs)) < 2:
        raise NotMeasuredError("a fit needs at least two distinct x values")
    slope, intercept = np.polyfit(np.asarray(xs, float), np.asarray(ys, float), 1)
    return float(slope), float(intercept)


def median(values: Sequence[float]) -> float:
    """The median of a non-empty sequence."""
    if not values:
        raise NotMeasuredError("no values")
    return float(np.median(np.asarray(values, dtype=float)))


def highest_under(levels: Sequence[int], values: Sequence[float], limit: float) -> int:
    """The highest level whose value is under ``limit``, counting only up to the first miss.

    Levels are in increasing order; 0 when even the first level misses.
    """
    best = 0
    for level, value in zip(levels, values, strict=True):
        if value >= limit:
            break
        best = level
    return best


def spread(values: Sequence[float | None]) -> dict[str, float | int | None]:
    """The median of repeated figures with their range: runs on shared cores swing.

    Figures that could not be computed (None) are left out; all None gives Nones.
    """
    kept = [float(v) for v in values if v is not None]
    if not kept:
        return {"median": None, "min": None, "max": None, "repetitions": 0}
    return {
        "median": rounded(median(kept)),
        "min": rounded(min(kept)),
        "max": rounded(max(kept)),
        "repetitions": len(kept),
    }


COUNTS = ("n", "failed_actions", "censored_probes", "failed_probes")


def combine_repetitions(repetitions: Sequence[Sequence[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Level by level, the median of each figure over repetitions, counts summed.

    ``repetitions`` holds one list of level figures per repetition, levels in the
    same order each time (e.g. 1, 10, 50 sessions).
    """
    combined = []
    for levels in zip(*repetitions, strict=True):
        merged: dict[str, Any] = {}
        for key, first in levels[0].items():
            values = [level[key] for level in levels]
            if key in COUNTS:
                merged[key] = sum(values)
            elif isinstance(first, bool) or not isinstance(first, int | float):
                merged[key] = first
            elif all(value == first for value in values):
                merged[key] = first  # a level's name, e.g. its session count
            else:
                merged[key] = rounded(median(values))
        combined.append(merged)
    return combined
