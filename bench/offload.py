"""Offload overhead: a UI action to its result on screen, minus the task's own run time.

Users click Submit on the app's /tasks page through a real ``panel-dask-serve``
(headless Bokeh-protocol sessions, see ``bench.bokeh_client``); the task is
``sleep_seconds(0.02)`` on real Dask workers with threads to spare, so the
figure is the offload machinery, not a queue. The latency runs from the click
leaving the client to the table row saying ``finished`` arriving; the run time
the worker measured for the task is subtracted. Each user thinks 1–3 s between
clicks (closed loop) for a fixed window at 1, 10 and 50 concurrent sessions.

Baselines, same run, same cluster, same users:

* ``dask_client``: the floor, a bare asynchronous ``Client.submit`` round trip
  from this process (no Panel, no browser protocol);
* ``panel_guide_page``: a page written as Panel's "Scaling with Dask" how-to
  writes it (bench/pages/dask_guide.py), served with the app's flags;
* ``panel_guide_quoted_ms``: the ~250 ms of overhead that guide warns of.

Each variant runs ``repetitions`` times, interleaved (client, app, guide, then
again), so drift on the shared machine hits all of them alike. Figures per
level are the medians over repetitions; each ratio to the guide page is taken
within one repetition, and reported as its median with its range.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from distributed import Client

from bench.bokeh_client import BrowserlessSession
from bench.drivers import GuidePage, Outcome, TasksPage
from bench.figures import pyplot, save
from bench.load import Action, LoopLag, close_all, closed_loop, open_sessions
from bench.progress import Progress
from bench.servers import AppServer, PageServer, Server, serving
from bench.stats import NotMeasuredError, combine_repetitions, ratio, spread, summary_ms
from panel_dask_app.remote import run_task
from panel_dask_testkit.local_dask import running_dask

TASK = "sleep_seconds"
TASK_SECONDS = 0.02
GUIDE_QUOTED_MS = 250.0
GOAL_OVER_GUIDE = 1.25  # the app's p50 and p99 at most this many times the guide page's
GOAL_SESSIONS = (10, 50)
ANSWER_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Plan:
    """Sizes for one run (2 cores: one Panel process, two workers, this client)."""

    levels: tuple[int, ...] = (1, 10, 50)
    window_s: float = 12.0
    think_s: tuple[float, float] = (1.0, 3.0)
    workers: int = 2
    threads: int = 8
    repetitions: int = 3


FULL = Plan()
QUICK = Plan(levels=(1, 3), window_s=4.0, think_s=(0.2, 0.5), workers=1, threads=4, repetitions=1)


def overhead(outcome: Outcome) -> tuple[float, bool]:
    """Seconds the offload added to what the task itself took."""
    return outcome.latency - outcome.compute, False


async def page_level(
    server: Server,
    make: Callable[[BrowserlessSession], Any],
    count: int,
    plan: Plan,
    on_warm: Callable[[], object] | None = None,
) -> dict[str, Any]:
    """``count`` users of one page clicking for ``plan.window_s``; the level's figures.

    ``on_warm`` is called once every session is open and has run its first task
    (``make profile`` starts sampling there).
    """
    sessions = await open_sessions(server.url, server.path, count)
    try:
        pages = [make(session) for session in sessions]
        for page in pages:
            if isinstance(page, TasksPage):
                await page.choose(TASK, str(TASK_SECONDS))
        # One unmeasured action per session: first-use costs are not offload overhead.
        await asyncio.gather(*(page.submit(ANSWER_TIMEOUT_S) for page in pages))
        if on_warm is not None:
            on_warm()

        def action(page: Any) -> Action:
            async def act() -> tuple[float, bool]:
                return overhead(await page.submit(ANSWER_TIMEOUT_S))

            return act

        lag = LoopLag()
        async with lag.watching():
            result = await closed_loop([action(p) for p in pages], plan.window_s, plan.think_s)
    finally:
        await close_all(sessions)
    return _level(count, result.samples, result.failures, lag.lags)


async def _client_level(address: str, count: int, plan: Plan) -> dict[str, Any]:
    client = await Client(address, asynchronous=True, set_as_default=False)
    try:

        async def act() -> tuple[float, bool]:
            sent = time.perf_counter()
            outcome = await client.submit(run_task, TASK, TASK_SECONDS, pure=False)
            return time.perf_counter() - sent - outcome["duration"], False

        await act()
        lag = LoopLag()
        async with lag.watching():
            result = await closed_loop([act] * count, plan.window_s, plan.think_s)
    finally:
        await client.close()
    return _level(count, result.samples, result.failures, lag.lags)


def _level(
    count: int, samples: list[float], failures: list[str], lags: list[float]
) -> dict[str, Any]:
    if failures and not samples:
        raise NotMeasuredError(f"{count} sessions: every action failed: {failures[0]}")
    figures = {"sessions": count, **summary_ms(samples), "failed_actions": len(failures)}
    figures["client_loop_lag_p99_ms"] = summary_ms(lags)["p99_ms"] if lags else 0.0
    return figures


def run(quick: bool, out_dir: Path) -> dict[str, Any]:
    """The ``offload`` object of latest.json."""
    plan = QUICK if quick else FULL
    progress = Progress("offload", 3 * len(plan.levels) * plan.repetitions)
    logs = Path(tempfile.mkdtemp(prefix="bench-offload-"))
    variants = ("app", "dask_client", "guide")
    repetitions: dict[str, list[list[dict[str, Any]]]] = {name: [] for name in variants}

    def report(variant: str, rep: int, figures: dict[str, Any]) -> None:
        repetitions[variant][rep].append(figures)
        progress.step(
            f"{variant} (run {rep + 1} of {plan.repetitions}), {figures['sessions']} sessions: "
            f"overhead p50 {figures['p50_ms']} ms, p99 {figures['p99_ms']} ms "
            f"({figures['n']} actions)"
        )

    with running_dask(logs, plan.workers, plan.threads) as dask:
        for rep in range(plan.repetitions):
            for name in variants:
                repetitions[name].append([])
            for count in plan.levels:
                report("dask_client", rep, asyncio.run(_client_level(dask.address, count, plan)))
            with serving(AppServer(logs, dask)) as app:
                for count in plan.levels:
                    report("app", rep, asyncio.run(page_level(app, TasksPage, count, plan)))
            with serving(PageServer(logs, dask, "dask_guide")) as guide:
                for count in plan.levels:
                    report("guide", rep, asyncio.run(page_level(guide, GuidePage, count, plan)))

    def ratios(baseline: str, key: str) -> dict[str, dict[str, Any]]:
        by_level: dict[str, list[float | None]] = {}
        for app_levels, base_levels in zip(repetitions["app"], repetitions[baseline], strict=True):
            for a, b in zip(app_levels, base_levels, strict=True):
                by_level.setdefault(str(a["sessions"]), []).append(ratio(a[key], b[key]))
        return {level: spread(values) for level, values in by_level.items()}

    over_guide = {key: ratios("guide", key) for key in ("p50_ms", "p99_ms")}
    at_goal = [
        over_guide[key][str(count)]["median"]
        for key in over_guide
        for count in GOAL_SESSIONS
        if str(count) in over_guide[key]
    ]
    combined = {name: combine_repetitions(repetitions[name]) for name in variants}
    return {
        "task": f"{TASK}({TASK_SECONDS})",
        "window_s": plan.window_s,
        "think_time_s": list(plan.think_s),
        "dask_workers": plan.workers,
        "threads_per_worker": plan.threads,
        "repetitions": plan.repetitions,
        "app": combined["app"],
        "baselines": {
            "dask_client": combined["dask_client"],
            "panel_guide_page": combined["guide"],
            "panel_guide_quoted_ms": GUIDE_QUOTED_MS,
        },
        "ratios": {
            "app_p50_over_dask_client_p50_by_sessions": {
                level: s["median"] for level, s in ratios("dask_client", "p50_ms").items()
            },
            "app_p50_over_guide_page_p50_by_sessions": over_guide["p50_ms"],
            "app_p99_over_guide_page_p99_by_sessions": over_guide["p99_ms"],
            "app_p50_over_quoted_250ms_by_sessions": {
                str(f["sessions"]): ratio(f["p50_ms"], GUIDE_QUOTED_MS) for f in combined["app"]
            },
        },
        "goal": {
            "app_p50_and_p99_over_guide_page_at_most": GOAL_OVER_GUIDE,
            "at_sessions": list(GOAL_SESSIONS),
            "met": None
            if not at_goal or None in at_goal
            else all(value <= GOAL_OVER_GUIDE for value in at_goal),
        },
        "runs": repetitions,
    }


def plot(result: dict[str, Any], out_dir: Path) -> list[Path]:
    """p50 and p99 overhead by concurrent sessions, the app against its baselines."""
    plt = pyplot()

    series = {
        "app (/tasks)": result["app"],
        "Panel guide page": result["baselines"]["panel_guide_page"],
        "bare Dask client": result["baselines"]["dask_client"],
    }
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6), sharey=True)
    for ax, key in zip(axes, ("p50_ms", "p99_ms"), strict=True):
        for label, levels in series.items():
            ax.plot([f["sessions"] for f in levels], [f[key] for f in levels], "o-", label=label)
        ax.axhline(result["baselines"]["panel_guide_quoted_ms"], color="grey", ls="--",
                   label="guide's quoted ~250 ms")  # fmt: skip
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("concurrent sessions")
        ax.set_title(f"offload overhead {key.split('_')[0]}")
    axes[0].set_ylabel("ms (click to result shown, minus task time)")
    axes[0].legend(fontsize=8)
    return save(fig, out_dir, "offload")
