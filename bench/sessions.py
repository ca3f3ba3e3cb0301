"""Session capacity of one Panel process: memory per session, and sessions served in 100 ms.

Sessions are opened in steps on one ``panel-dask-serve`` process (the /tasks page,
with its live cluster panel) and kept open. At each step the server's resident
memory is read, then every open session acts as a user choosing the other task
every ~2 s for a window, timing the server's answer (the trivial callback of
``bench.responsiveness``). Memory per session is the slope of memory against
sessions; capacity is the most sessions whose p99 stayed under 100 ms, counting
steps up to the first miss. The ramp stops early once p99 passes 1 s.

Baseline, same run: a bare Panel page with the same callback and nothing else
(bench/pages/bare.py), i.e. what a session of Panel itself costs.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.bokeh_client import BrowserlessSession
from bench.drivers import TaskForm
from bench.figures import pyplot, save
from bench.load import Action, LoopLag, close_all, closed_loop, open_sessions
from bench.progress import Progress
from bench.servers import AppServer, PageServer, Server, rss_bytes, serving
from bench.stats import NotMeasuredError, highest_under, linear_fit, ratio, rounded, summary_ms
from panel_dask_testkit.local_dask import running_dask

LIMIT_P99_MS = 100.0
MIB = 2**20
ANSWER_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Plan:
    """Sizes for one run."""

    levels: tuple[int, ...] = (1, 10, 25, 50, 100, 150, 200)
    window_s: float = 8.0
    think_s: tuple[float, float] = (1.5, 2.5)
    settle_s: float = 2.0
    stop_p99_ms: float = 1000.0


FULL = Plan()
QUICK = Plan(levels=(1, 4, 8), window_s=3.0, think_s=(0.5, 1.0), settle_s=1.0)


async def _ramp(server: Server, plan: Plan, progress: Progress, label: str) -> dict[str, Any]:
    sessions: list[BrowserlessSession] = []
    forms: list[TaskForm] = []
    steps: list[dict[str, Any]] = []
    idle_rss = rss_bytes(server.pid)
    try:
        for level in plan.levels:
            began = time.perf_counter()
            opened = await open_sessions(server.url, server.path, level - len(sessions))
            open_s = time.perf_counter() - began
            sessions += opened
            forms += [TaskForm(session) for session in opened]
            await asyncio.sleep(plan.settle_s)
            rss = rss_bytes(server.pid)

            stuck: list[TaskForm] = []
            lag = LoopLag()
            async with lag.watching():
                result = await closed_loop(
                    [_toggler(f, stuck) for f in forms], plan.window_s, plan.think_s
                )
            forms = [f for f in forms if f not in stuck]  # its form state is unknown now
            if not result.samples:
                raise NotMeasuredError(f"{label}: no answer at {level} sessions")
            step = {
                "sessions": level,
                "rss_mib": rounded(rss / MIB, 1),
                **summary_ms(result.samples),
                "censored": result.censored,
                "failed": len(result.failures),
                "open_s_per_session": rounded(open_s / max(len(opened), 1), 3),
                "client_loop_lag_p99_ms": summary_ms(lag.lags)["p99_ms"] if lag.lags else 0.0,
            }
            steps.append(step)
            progress.step(
                f"{label}, {level} sessions: {step['rss_mib']} MiB, trivial callback "
                f"p50 {step['p50_ms']} ms, p99 {step['p99_ms']} ms"
            )
            if step["p99_ms"] > plan.stop_p99_ms:
                progress.note(f"{label}: p99 over {plan.stop_p99_ms:.0f} ms, ramp stops here")
                break
    finally:
        await close_all(sessions)
    return _figures(steps, idle_rss)


def _toggler(form: TaskForm, stuck: list[TaskForm]) -> Action:
    async def act() -> tuple[float, bool]:
        timed = await form.toggle(ANSWER_TIMEOUT_S)
        if timed.censored:
            stuck.append(form)
        return timed.latency, timed.censored

    return act


def _figures(steps: list[dict[str, Any]], idle_rss: int) -> dict[str, Any]:
    # The first session also imports and builds what every later one reuses; the
    # slope over the later steps is what one more session costs.
    fitted = [s for s in steps if s["sessions"] > 1] if len(steps) > 2 else steps
    if len(fitted) < 2:
        raise NotMeasuredError("memory per session needs two steps with sessions")
    slope, _ = linear_fit([s["sessions"] for s in fitted], [s["rss_mib"] for s in fitted])
    levels = [s["sessions"] for s in steps]
    capacity = highest_under(levels, [s["p99_ms"] for s in steps], LIMIT_P99_MS)
    return {
        "idle_rss_mib": rounded(idle_rss / MIB, 1),
        "memory_per_session_mib": rounded(slope, 3),
        "capacity_sessions_p99_under_100ms": capacity,
        "capacity_is_lower_bound": capacity == levels[-1],
        "steps": steps,
    }


def run(quick: bool, out_dir: Path) -> dict[str, Any]:
    """The ``sessions`` object of latest.json."""
    plan = QUICK if quick else FULL
    progress = Progress("sessions", 2 * len(plan.levels))
    logs = Path(tempfile.mkdtemp(prefix="bench-sessions-"))
    with running_dask(logs, workers=1, threads=1) as dask:
        with serving(AppServer(logs, dask)) as app:
            ours = asyncio.run(_ramp(app, plan, progress, "app"))
        progress.done = len(plan.levels)
        with serving(PageServer(logs, dask, "bare")) as bare_server:
            bare = asyncio.run(_ramp(bare_server, plan, progress, "bare page"))
    return {
        "page": "/tasks",
        "window_s": plan.window_s,
        "think_time_s": list(plan.think_s),
        "p99_limit_ms": LIMIT_P99_MS,
        "app": ours,
        "baselines": {"bare_panel_page": bare},
        "ratios": {
            "memory_per_session_app_over_bare": ratio(
                ours["memory_per_session_mib"], bare["memory_per_session_mib"]
            ),
            "capacity_app_over_bare": ratio(
                ours["capacity_sessions_p99_under_100ms"],
                bare["capacity_sessions_p99_under_100ms"],
            ),
        },
    }


def plot(result: dict[str, Any], out_dir: Path) -> list[Path]:
    """Memory and p99 of the trivial callback against open sessions."""
    plt = pyplot()

    variants = {"app (/tasks)": result["app"], "bare Panel page": result["baselines"][
        "bare_panel_page"]}  # fmt: skip
    fig, (mem, lat) = plt.subplots(1, 2, figsize=(9, 3.6))
    for label, figures in variants.items():
        xs = [s["sessions"] for s in figures["steps"]]
        mem.plot(xs, [s["rss_mib"] for s in figures["steps"]], "o-", label=label)
        lat.plot(xs, [s["p99_ms"] for s in figures["steps"]], "o-", label=label)
    mem.set_xlabel("open sessions")
    mem.set_ylabel("server resident memory, MiB")
    mem.set_title("memory")
    lat.axhline(result["p99_limit_ms"], color="grey", ls="--", label="100 ms")
    lat.set_yscale("log")
    lat.set_xlabel("open sessions (each acting every ~2 s)")
    lat.set_ylabel("trivial callback p99, ms")
    lat.set_title("latency")
    lat.legend(fontsize=8)
    return save(fig, out_dir, "sessions")
