"""Garbage-collector settings for the Panel server: shorter and rarer full collections.

A full collection stops the server's event loop while it scans every tracked
object. With 50 sessions open on one process that was about 560,000 objects,
and pauses of 0.3-0.9 s every few seconds while sessions came and went: each
one a stall for every user of the process (bench/results/changes.md). Two
settings shorten and thin them out:

* what exists once the server has imported its pages lives as long as the
  process, so it is moved out of the collector's sight (``gc.freeze``);
* young collections run after more allocations, so short-lived objects die by
  reference count instead of being promoted towards the old generation, whose
  growth is what triggers a full collection.
"""

from __future__ import annotations

import gc

# CPython's default is 700; the older generations' thresholds stay as they are.
YOUNG_THRESHOLD = 5000


def apply() -> None:
    """Freeze what is alive now and raise the young generation's threshold (idempotent)."""
    gc.collect()
    gc.freeze()
    _young, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
