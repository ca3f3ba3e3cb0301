"""Autoscaler reaction to a burst on the local stack, vs Dask's ``adapt()`` and a fixed cluster.

Each variant gets a fresh ``LocalCluster`` (worker processes, one thread each)
at the minimum size, then a burst of sleeping tasks (sleep, so the 2 shared
cores are not what limits the makespan). Sampled every 10 ms on the cluster's
own loop: when more workers were *requested* (the scale decision), when the
first and the last new worker *connected*, and when the last task finished.

* ``local_autoscaler``: the project's policy (``panel_dask_operator.local``) as
  ``make dev`` runs it: at most 0.5 s between ticks, and in between a long poll
  of the scheduler's state route that brings the tick forward when the backlog
  calls for more workers (so every variant's scheduler serves the product's routes).
* ``dask_adapt_defaults``: ``cluster.adapt(minimum, maximum)`` with Dask's
  default interval, target duration and wait count.
* ``fixed_minimum``: no scaling at all; the makespan a burst costs without it.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import dask
from distributed import Client, LocalCluster

from bench.figures import pyplot, save
from bench.progress import Progress
from bench.stats import NotMeasuredError, median, ratio, rounded
from panel_dask_app.scheduler_routes import routes_config
from panel_dask_operator.local import LocalAutoscaler
from panel_dask_operator.policy import ScalingSpec

VARIANTS = ("local_autoscaler", "dask_adapt_defaults", "fixed_minimum")
MINIMUM = 1
MAXIMUM = 4
TASKS_PER_WORKER = 4
SAMPLE_S = 0.01


def burst_size(quick: bool) -> tuple[int, float]:
    """(tasks, seconds each): enough work that four workers clearly beat one."""
    return (16, 0.5) if quick else (40, 0.5)


async def run_burst(variant: str, tasks: int, task_s: float) -> dict[str, Any]:
    """One burst on a fresh cluster; times in seconds from the submit."""
    with dask.config.set(routes_config()):
        cluster = await LocalCluster(
            n_workers=MINIMUM,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            asynchronous=True,
        )
    scaler: LocalAutoscaler | None = None
    try:
        client = await Client(cluster, asynchronous=True, set_as_default=False)
        await client.wait_for_workers(MINIMUM)
        if variant == "local_autoscaler":
            spec = ScalingSpec(MINIMUM, MAXIMUM, TASKS_PER_WORKER, scale_down_delay=60)
            scaler = LocalAutoscaler(cluster, spec, interval=0.5).start()
        elif variant == "dask_adapt_defaults":
            cluster.adapt(minimum=MINIMUM, maximum=MAXIMUM)
        await asyncio.sleep(1.0)  # the scaler's first idle ticks, before the burst
        started = time.perf_counter()
        futures = client.map(time.sleep, [task_s] * tasks, pure=False)
        timeline: list[tuple[float, int, int]] = []
        decision = first_worker = all_workers = None
        peak = MINIMUM
        while not all(f.done() for f in futures):
            now = time.perf_counter() - started
            requested = len(cluster.worker_spec)
            running = len(cluster.scheduler.workers)
            timeline.append((rounded(now, 3), requested, running))
            if decision is None and requested > MINIMUM:
                decision = now
            if first_worker is None and running > MINIMUM:
                first_worker = now
            if running > peak:
                peak, all_workers = running, now
            await asyncio.sleep(SAMPLE_S)
        makespan = time.perf_counter() - started
        await client.gather(futures)
        await client.close()
        return {
            "decision_s": None if decision is None else rounded(decision, 3),
            "first_worker_running_s": None if first_worker is None else rounded(first_worker, 3),
            "peak_workers_running_s": None if all_workers is None else rounded(all_workers, 3),
            "peak_workers": peak,
            "makespan_s": rounded(makespan, 3),
            "timeline": timeline[:: max(1, len(timeline) // 400)],
        }
    finally:
        if scaler is not None:
            scaler.stop()
            await asyncio.sleep(0.6)
        await cluster.close()


def _median_of(runs: list[dict[str, Any]], key: str) -> float | None:
    values = [r[key] for r in runs if r[key] is not None]
    return rounded(median(values), 3) if values else None


def run(quick: bool, out_dir: Path) -> dict[str, Any]:
    """The ``autoscaler`` object of latest.json (medians over repeats, per variant)."""
    tasks, task_s = burst_size(quick)
    repeats = 1 if quick else 2
    progress = Progress("autoscaler", len(VARIANTS) * repeats)
    runs: dict[str, list[dict[str, Any]]] = {v: [] for v in VARIANTS}
    for repeat in range(repeats):
        for variant in VARIANTS:
            result = asyncio.run(run_burst(variant, tasks, task_s))
            runs[variant].append(result)
            progress.step(
                f"{variant} #{repeat + 1}: decision {result['decision_s']} s, "
                f"makespan {result['makespan_s']} s, peak {result['peak_workers']} workers"
            )
    figures: dict[str, Any] = {}
    for variant, done in runs.items():
        figures[variant] = {
            key: _median_of(done, key)
            for key in ("decision_s", "first_worker_running_s", "peak_workers_running_s",
                        "makespan_s")
        }  # fmt: skip
        # Every run's figure too: on a shared machine the spread is part of the result.
        figures[variant]["makespan_s_runs"] = [r["makespan_s"] for r in done]
        figures[variant]["decision_s_runs"] = [r["decision_s"] for r in done]
        figures[variant]["peak_workers"] = max(r["peak_workers"] for r in done)
        figures[variant]["runs"] = len(done)
    ours = figures["local_autoscaler"]
    if ours["decision_s"] is None:
        raise NotMeasuredError("the local autoscaler never scaled up during the burst")
    return {
        "burst": {
            "tasks": tasks,
            "task_s": task_s,
            "minimum_workers": MINIMUM,
            "maximum_workers": MAXIMUM,
            "threads_per_worker": 1,
            "tasks_per_worker": TASKS_PER_WORKER,
        },  # fmt: skip
        "variants": figures,
        "ratios": {
            "decision_vs_adapt": ratio(
                ours["decision_s"], figures["dask_adapt_defaults"]["decision_s"] or 0
            ),
            "makespan_vs_adapt": ratio(
                ours["makespan_s"], figures["dask_adapt_defaults"]["makespan_s"] or 0
            ),
            "makespan_vs_fixed_minimum": ratio(
                ours["makespan_s"], figures["fixed_minimum"]["makespan_s"] or 0
            ),
        },
        "goal": {"decision_s_at_most": 1.0, "met": ours["decision_s"] <= 1.0},
        "timelines": {v: done[-1]["timeline"] for v, done in runs.items()},
    }


def plot(result: dict[str, Any], out_dir: Path) -> list[Path]:
    """Workers running over time in the last burst of each variant."""
    plt = pyplot()

    fig, ax = plt.subplots(figsize=(7, 3.5))
    for index, (variant, timeline) in enumerate(result["timelines"].items()):
        if timeline:
            ts, requested, running = zip(*timeline, strict=True)
            colour = f"C{index}"
            ax.step(ts, running, where="post", color=colour, label=f"{variant} running")
            ax.step(ts, requested, where="post", color=colour, linestyle="--", alpha=0.6,
                    label=f"{variant} requested")  # fmt: skip
    ax.set_xlabel("seconds since the burst was submitted")
    ax.set_ylabel("workers")
    ax.set_title("Burst on the local stack: workers requested (dashed) and running")
    ax.legend(fontsize="small")
    return save(fig, out_dir, "autoscaler")
