"""The autoscaler shrinks the cluster while tasks keep arriving: nothing lost, nothing recomputed.

Real worker processes under the local actuator (the policy ``make dev`` runs).
A burst grows the cluster to its maximum; a trickle of tasks then keeps it
busy at a lower level while the scale-down delay passes and workers are
retired. Every result is held by the client the whole time, so results on a
retired worker must move to one that stays: a key computed twice (counted by a
scheduler plugin over every transition, not a bounded log) is a recomputation
the retirement should have avoided.
"""

from __future__ import annotations

import asyncio
import collections
import time

import pytest
from distributed import Client
from distributed.diagnostics.plugin import SchedulerPlugin

from panel_dask_operator.local import LocalAutoscaler
from panel_dask_operator.policy import ScalingSpec
from panel_dask_testkit.local_dask import process_cluster
from panel_dask_testkit.waiting import wait_for_async

pytestmark = pytest.mark.dask

SPEC = ScalingSpec(minimum=1, maximum=3, tasks_per_worker=2, scale_down_delay=1.0)
BURST = 24
TRICKLE_EVERY_S = 0.5


class Completions(SchedulerPlugin):
    """Counts, per key, how often a task finished computing, and keys that erred or were lost."""

    def __init__(self) -> None:
        self.computed: collections.Counter[str] = collections.Counter()
        self.failed: set[str] = set()

    def transition(self, key, start, finish, *args, **kwargs):
        if start == "processing" and finish == "memory":
            self.computed[str(key)] += 1
        if finish in ("erred", "forgotten") and start != "released":
            self.failed.add(str(key))


def slow_square():
    """Built here so Dask ships the function to the worker processes by value."""

    def square(i: int) -> int:
        time.sleep(0.3)
        return i * i

    return square


async def test_scale_down_under_load_loses_and_recomputes_nothing():
    async with (
        process_cluster() as cluster,
        Client(cluster, asynchronous=True) as client,
    ):
        completions = Completions()
        cluster.scheduler.add_plugin(completions, name="completions")
        autoscaler = LocalAutoscaler(cluster, SPEC, interval=0.2).start()
        square = slow_square()
        try:
            futures = client.map(square, range(BURST), pure=False)
            await wait_for_async(
                lambda: len(cluster.scheduler.workers) == SPEC.maximum, "the scale-up", 90
            )
            # Keep tasks coming while the burst drains and the cluster shrinks.
            workers_seen_during_trickle = []
            number = BURST
            while len(cluster.scheduler.workers) > SPEC.minimum or number < BURST + 6:
                futures.append(client.submit(square, number, pure=False))
                workers_seen_during_trickle.append(len(cluster.scheduler.workers))
                number += 1
                await asyncio.sleep(TRICKLE_EVERY_S)
                assert number < BURST + 200, "the cluster never shrank under the trickle"
            workers_seen_during_trickle.append(len(cluster.scheduler.workers))
            results = await client.gather(futures)
        finally:
            autoscaler.stop()

        assert results == [i * i for i in range(number)]
        # The shrink happened while tasks were still being submitted and run.
        assert max(workers_seen_during_trickle) == SPEC.maximum
        assert workers_seen_during_trickle[-1] == SPEC.minimum
        downs = [d for d in autoscaler.decisions if d.direction == "down"]
        assert downs, list(autoscaler.decisions)
        # Every result still held (some computed on workers since retired) is in
        # memory, and no task ran to completion twice.
        keys = {str(f.key) for f in futures}
        assert all(f.status == "finished" for f in futures)
        assert set(completions.computed) == keys
        recomputed = {k: n for k, n in completions.computed.items() if n > 1}
        assert recomputed == {}, f"recomputed after scale-down: {recomputed}"
        assert not (completions.failed & keys)
