"""Responsiveness under load: a trivial UI callback's latency while 50 sessions offload work.

Fifty "loader" sessions each submit one ``sleep_seconds`` task and submit the
next as soon as its row says finished, so the Dask workers' threads are always
busy with a queue behind them (saturated, without burning the 2 shared cores).
Meanwhile a few "probe" sessions choose the other task in the form, 3–5 times a
second each, and time the server's answer (the input reset to that task's
default): a callback that involves no Dask at all, i.e. what every click on the
page feels like while the cluster is busy.

Variants, same run, same cluster: the app as built (``async`` callbacks on the
shared asynchronous client); the page written as Panel's Dask guide writes it
with the same task form beside it (bench/pages/dask_guide_form.py), loaded by
its own SUBMIT; and the app's page with a blocking Submit (``.result()`` in a
plain callback, bench/blocking.py). Each runs ``repetitions`` times, interleaved;
figures are medians over the runs, ratios are taken within a run and reported
as their median and range. A probe with no answer
by the end of the window plus a grace period is counted (``censored``) with the
time it waited, a lower bound.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from distributed import Client

from bench.bokeh_client import BrowserlessSession
from bench.drivers import GuidePage, TaskForm, TasksPage
from bench.figures import pyplot, save
from bench.load import Action, close_all, closed_loop, open_sessions
from bench.progress import Progress
from bench.servers import AppServer, PageServer, Server, serving
from bench.stats import NotMeasuredError, combine_repetitions, ratio, spread, summary_ms
from panel_dask_app.remote import cluster_summary
from panel_dask_testkit.local_dask import running_dask

GRACE_S = 10.0


@dataclass(frozen=True)
class Plan:
    """Sizes for one run."""

    loaders: int = 50
    probes: int = 4
    task_seconds: float = 0.5
    warmup_s: float = 4.0
    window_s: float = 20.0
    probe_think_s: tuple[float, float] = (0.2, 0.3)
    workers: int = 1
    threads: int = 4
    repetitions: int = 3


FULL = Plan()
QUICK = Plan(
    loaders=6, probes=2, task_seconds=0.3, warmup_s=2.0, window_s=5.0, threads=2, repetitions=1
)
GOAL_P99_OVER_GUIDE = 1.5


async def _loader(session: BrowserlessSession, plan: Plan) -> TasksPage | GuidePage:
    """A loading user's page, set to the benchmark's task."""
    if "/dask_guide" in session.path:
        guide = GuidePage(session)
        await guide.choose_seconds(plan.task_seconds)
        return guide
    page = TasksPage(session)
    await page.choose("sleep_seconds", str(plan.task_seconds))
    return page


async def _variant(server: Server, dask_address: str, plan: Plan) -> dict[str, Any]:
    loaders = await open_sessions(server.url, server.path, plan.loaders)
    probes = await open_sessions(server.url, server.path, plan.probes)
    observer = await Client(dask_address, asynchronous=True, set_as_default=False)
    try:
        pages = [await _loader(session, plan) for session in loaders]
        forms = [TaskForm(session) for session in probes]
        end = time.monotonic() + plan.warmup_s + plan.window_s

        def submitter(page: TasksPage | GuidePage) -> Action:
            async def act() -> tuple[float, bool]:
                within = max(1.0, end - time.monotonic() + GRACE_S)
                try:
                    return (await page.submit(within)).latency, False
                except TimeoutError:
                    return within, True

            return act

        def prober(form: TaskForm) -> Action:
            async def act() -> tuple[float, bool]:
                timed = await form.toggle(max(0.5, end - time.monotonic() + GRACE_S))
                return timed.latency, timed.censored

            return act

        backlog: list[int] = []

        async def watch_cluster() -> None:
            await asyncio.sleep(plan.warmup_s)
            while time.monotonic() < end:
                summary = await observer.run_on_scheduler(cluster_summary)
                backlog.append(summary["queued"] + summary["processing"])
                await asyncio.sleep(0.5)

        async def probing() -> Any:
            await asyncio.sleep(plan.warmup_s)
            return await closed_loop([prober(f) for f in forms], plan.window_s, plan.probe_think_s)

        load, probed, _ = await asyncio.gather(
            closed_loop([submitter(p) for p in pages], plan.warmup_s + plan.window_s, (0, 0)),
            probing(),
            watch_cluster(),
        )
    finally:
        await observer.close()
        await close_all([*loaders, *probes])
    if not probed.samples:
        raise NotMeasuredError(f"no probe was answered: {probed.failures[:1]}")
    return {
        **summary_ms(probed.samples),
        "censored_probes": probed.censored,
        "failed_probes": len(probed.failures),
        "tasks_finished_in_window": len(load.samples),
        "cluster_tasks_outstanding_mean": round(sum(backlog) / max(len(backlog), 1), 1),
        "worker_threads": plan.workers * plan.threads,
    }


def run(quick: bool, out_dir: Path) -> dict[str, Any]:
    """The ``responsiveness`` object of latest.json."""
    plan = QUICK if quick else FULL
    progress = Progress("responsiveness", 3 * plan.repetitions)
    logs = Path(tempfile.mkdtemp(prefix="bench-responsiveness-"))
    variants = {
        "app": lambda dask: AppServer(logs, dask),
        "panel_guide_page": lambda dask: PageServer(logs, dask, "dask_guide_form"),
        "blocking_callbacks": lambda dask: PageServer(logs, dask, "blocking_tasks"),
    }
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in variants}
    with running_dask(logs, plan.workers, plan.threads) as dask:
        for rep in range(plan.repetitions):
            for name, make in variants.items():
                with serving(make(dask)) as server:
                    figures = asyncio.run(_variant(server, dask.address, plan))
                runs[name].append(figures)
                progress.step(
                    f"{name} (run {rep + 1} of {plan.repetitions}): trivial callback p50 "
                    f"{figures['p50_ms']} ms, p99 {figures['p99_ms']} ms ({figures['n']} probes, "
                    f"{figures['censored_probes']} unanswered), "
                    f"{figures['cluster_tasks_outstanding_mean']} tasks outstanding on "
                    f"{figures['worker_threads']} threads"
                )
    combined = {
        name: combine_repetitions([[f] for f in figures])[0] for name, figures in runs.items()
    }

    def ratios(over: str, under: str, key: str) -> dict[str, Any]:
        return spread([ratio(a[key], b[key]) for a, b in zip(runs[over], runs[under], strict=True)])

    app_over_guide_p99 = ratios("app", "panel_guide_page", "p99_ms")
    return {
        "loader_sessions": plan.loaders,
        "probe_sessions": plan.probes,
        "task": f"sleep_seconds({plan.task_seconds})",
        "window_s": plan.window_s,
        "repetitions": plan.repetitions,
        "app": combined["app"],
        "baselines": {
            "panel_guide_page": combined["panel_guide_page"],
            "blocking_callbacks": combined["blocking_callbacks"],
        },
        "ratios": {
            "app_p50_over_guide_page_p50": ratios("app", "panel_guide_page", "p50_ms"),
            "app_p99_over_guide_page_p99": app_over_guide_p99,
            "blocking_p50_over_app_p50": ratios("blocking_callbacks", "app", "p50_ms"),
            "blocking_p99_over_app_p99": ratios("blocking_callbacks", "app", "p99_ms"),
        },
        "goal": {
            "app_p99_over_guide_page_p99_at_most": GOAL_P99_OVER_GUIDE,
            "met": None
            if app_over_guide_p99["median"] is None
            else app_over_guide_p99["median"] <= GOAL_P99_OVER_GUIDE,
        },
        "runs": runs,
    }


def plot(result: dict[str, Any], out_dir: Path) -> list[Path]:
    """p50/p99 of the trivial callback, app against blocking callbacks."""
    plt = pyplot()

    variants = {
        "app (async)": result["app"],
        "guide page": result["baselines"].get("panel_guide_page", {}),
        "blocking .result()": result["baselines"]["blocking_callbacks"],
    }
    variants = {name: figures for name, figures in variants.items() if figures}
    fig, ax = plt.subplots(figsize=(6, 3.4))
    width = 0.38
    for i, key in enumerate(("p50_ms", "p99_ms")):
        xs = [x + (i - 0.5) * width for x in range(len(variants))]
        bars = ax.bar(xs, [v[key] for v in variants.values()], width, label=key.split("_")[0])
        ax.bar_label(bars, fmt="%.0f", fontsize=8)
    ax.set_xticks(range(len(variants)), list(variants))
    ax.set_yscale("log")
    ax.set_ylabel("ms, choose a task → input reset")
    ax.set_title(f"Trivial callback while {result['loader_sessions']} sessions offload work")
    ax.legend()
    return save(fig, out_dir, "responsiveness")
