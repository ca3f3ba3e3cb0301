"""The benchmarks' summary statistics and progress bar (pure functions)."""

import pytest

from bench.progress import bar
from bench.stats import (
    NotMeasuredError,
    combine_repetitions,
    highest_under,
    linear_fit,
    ratio,
    spread,
    summary_ms,
)


def test_summary_is_in_milliseconds_and_ordered():
    figures = summary_ms([0.001 * i for i in range(1, 101)])
    assert figures["n"] == 100
    assert figures["p50_ms"] == pytest.approx(50.5)
    assert figures["p99_ms"] == pytest.approx(99.01)
    assert figures["max_ms"] == 100.0
    assert figures["p50_ms"] <= figures["p90_ms"] <= figures["p99_ms"] <= figures["max_ms"]


def test_no_samples_is_not_a_measurement():
    with pytest.raises(NotMeasuredError):
        summary_ms([])


def test_ratio_refuses_a_zero_baseline():
    assert ratio(30.0, 10.0) == 3.0
    assert ratio(30.0, 0.0) is None


def test_capacity_counts_levels_up_to_the_first_miss():
    levels = [1, 10, 25, 50]
    assert highest_under(levels, [40, 80, 120, 90], 100) == 10  # 50 passing again does not count
    assert highest_under(levels, [40, 80, 90, 99], 100) == 50
    assert highest_under(levels, [150, 80, 90, 99], 100) == 0


def test_memory_slope_needs_two_points():
    slope, intercept = linear_fit([10, 20, 40], [110, 120, 140])
    assert slope == pytest.approx(1.0) and intercept == pytest.approx(100.0)
    with pytest.raises(NotMeasuredError):
        linear_fit([10, 10], [1, 2])


def test_bar_fills_with_progress():
    assert bar(0, 4, width=8) == "[--------]"
    assert bar(2, 4, width=8) == "[####----]"
    assert bar(9, 4, width=8) == "[########]"


def test_spread_is_the_median_and_range_of_what_could_be_computed():
    assert spread([3.0, None, 1.0, 2.0]) == {
        "median": 2.0,
        "min": 1.0,
        "max": 3.0,
        "repetitions": 3,
    }
    assert spread([None]) == {"median": None, "min": None, "max": None, "repetitions": 0}


def test_combine_repetitions_takes_medians_per_level_and_sums_counts():
    runs = [
        [{"sessions": 1, "n": 5, "p50_ms": 10.0, "failed_actions": 0}],
        [{"sessions": 1, "n": 6, "p50_ms": 30.0, "failed_actions": 1}],
        [{"sessions": 1, "n": 7, "p50_ms": 20.0, "failed_actions": 0}],
    ]
    assert combine_repetitions(runs) == [
        {"sessions": 1, "n": 18, "p50_ms": 20.0, "failed_actions": 1}
    ]
