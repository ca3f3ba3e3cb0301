"""The local actuator scales real worker processes up and back down, losing nothing."""

from __future__ import annotations

import asyncio
import collections
import time

import dask
import pytest
from distributed import Client

from panel_dask_operator.local import LocalAutoscaler, spec_from_env
from panel_dask_operator.policy import ScalingSpec, SpecError
from panel_dask_testkit.local_dask import process_cluster
from panel_dask_testkit.waiting import wait_for_async


def test_spec_from_env_defaults_and_overrides():
    assert spec_from_env({}) == ScalingSpec(1, 4, 4, 10.0)
    env = {"PANEL_DASK_WORKERS_MIN": "0", "PANEL_DASK_WORKERS_MAX": "8"}
    assert spec_from_env(env) == ScalingSpec(0, 8, 4, 10.0)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"PANEL_DASK_WORKERS_MAX": "many"}, "PANEL_DASK_WORKERS_MAX"),
        ({"PANEL_DASK_WORKERS_MIN": "5", "PANEL_DASK_WORKERS_MAX": "2"}, "PANEL_DASK_WORKERS_MIN"),
        ({"PANEL_DASK_SCALE_DOWN_DELAY": "-1"}, "PANEL_DASK_SCALE_DOWN_DELAY"),
    ],
)
def test_bad_env_names_the_variable(env, named):
    with pytest.raises(SpecError, match=named):
        spec_from_env(env)


def square_slowly():
    """A task function built here so Dask ships it to the worker processes by value."""

    def square(i: int) -> int:
        time.sleep(0.4)
        return i * i

    return square


@pytest.mark.dask
async def test_burst_scales_processes_up_and_back_down():
    spec = ScalingSpec(minimum=1, maximum=4, tasks_per_worker=2, scale_down_delay=1.0)
    # Stealing would move tasks between workers on its own; without it every
    # reschedule in the transition log can only come from a killed worker.
    with dask.config.set({"distributed.scheduler.work-stealing": False}):
        async with (
            process_cluster() as cluster,
            Client(cluster, asynchronous=True) as client,
        ):
            autoscaler = LocalAutoscaler(cluster, spec, interval=0.2).start()
            try:
                peak = 0

                def watch_peak() -> bool:
                    nonlocal peak
                    peak = max(peak, len(cluster.scheduler.workers))
                    return False

                futures = client.map(square_slowly(), range(40), pure=False)
                gathering = asyncio.ensure_future(client.gather(futures))
                await wait_for_async(
                    lambda: watch_peak() or gathering.done(), "the burst to finish", 120
                )
                assert await gathering == [i * i for i in range(40)]
                assert peak == spec.maximum, f"peak {peak} workers"
                await wait_for_async(
                    lambda: (
                        len(cluster.scheduler.workers) == spec.minimum
                        and len(cluster.workers) == spec.minimum
                    ),
                    "the cluster to shrink back to the minimum",
                    60,
                )
            finally:
                autoscaler.stop()

            directions = [d.direction for d in autoscaler.decisions]
            assert "up" in directions and "down" in directions, directions
            # Every task went to processing exactly once: no busy worker was killed.
            keys = {f.key for f in futures}
            starts = collections.Counter(
                entry[0]
                for entry in cluster.scheduler.transition_log
                if entry[0] in keys and entry[2] == "processing"
            )
            assert set(starts) == keys
            assert set(starts.values()) == {1}, starts
