"""Task functions the Dask workers run.

Workers import this module by name (``acme_sales.tasks``) when they unpickle a
task, so the package must be installed wherever a worker runs: in the image
built ``FROM`` the panel-dask app image, or on ``PYTHONPATH`` for ``make dev``.
No Panel here: a worker needs only NumPy and this module.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass

import numpy as np

REGIONS = ("north", "south", "east", "west")
DAYS_MAX = 365
# Simulated futures per forecast: enough that a forecast takes a worker a moment.
SCENARIOS = 2_000


@dataclass(frozen=True)
class RegionForecast:
    """A region's expected revenue over ``days``, and where it was computed."""

    region: str
    days: int
    revenue: float
    # The worker's host (its pod's name on Kubernetes) and process.
    host: str
    pid: int


def forecast_revenue(region: str, days: int) -> RegionForecast:
    """Simulate ``days`` of a region's daily sales in many scenarios; the mean total.

    Seeded by the region, so a forecast is reproducible wherever it runs.

    Raises:
        ValueError: an unknown region or a day count outside 1 to ``DAYS_MAX``.
    """
    if region not in REGIONS:
        raise ValueError(f"region: expected one of {', '.join(REGIONS)}, got {region!r}")
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= DAYS_MAX:
        raise ValueError(f"days: expected an integer from 1 to {DAYS_MAX}, got {days!r}")
    scale = 500.0 * (REGIONS.index(region) + 1)
    rng = np.random.default_rng(seed=REGIONS.index(region))
    daily = rng.gamma(shape=2.0, scale=scale, size=(SCENARIOS, days))
    revenue = round(float(daily.sum(axis=1).mean()), 2)
    return RegionForecast(region, days, revenue, socket.gethostname(), os.getpid())
