"""Data page: a widget change to the updated plot on /data, and rows aggregated per second.

One user (a headless Bokeh-protocol session, see ``bench.bokeh_client``) opens
the app's /data page through a real ``panel-dask-serve`` and changes the
aggregation (max, min, sum, mean in turn): every change aggregates the whole
dataset per hour on the Dask workers. The latency runs from the change leaving
the client to the status line of the new answer arriving; the server sends it
in the same message as the new plot. Rows per second is the dataset's rows
over that latency. Two dataset sizes (``PANEL_DASK_DATA_ROWS``); the first
answer, which includes generating the dataset on the workers, is reported
apart and not in the latency figures.

Baseline, same run, same data: the same page computing with pandas in the
Panel process (bench/pandas_data.py: the same spec and seed generate the same
rows into the server's memory, the same functions aggregate them on a
thread), run only where the dataset fits in half of the memory available.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from bench.bokeh_client import BrowserlessSession, Event, changed
from bench.figures import pyplot, save
from bench.load import close_all, open_sessions
from bench.progress import Progress
from bench.servers import AppServer, PageServer, Server, serving
from bench.stats import NotMeasuredError, ratio, rounded, summary_ms
from panel_dask_app.dataset import DAY_ROWS, DatasetSpec
from panel_dask_testkit.local_dask import running_dask

AGGREGATIONS = ("max", "min", "sum", "mean")  # the page starts on mean: each is a change
BYTES_PER_ROW = 40  # a generated row in pandas (timestamp, category, int, two floats) + slack
FIRST_ANSWER_TIMEOUT_S = 300.0  # generating the dataset, numba's first compile
ANSWER_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class Plan:
    """Sizes for one run (2 cores: one Panel process, two workers, this client)."""

    days: tuple[int, ...] = (12, 58)  # about 1 and 5 million rows
    changes: int = 12
    workers: int = 2
    threads: int = 1


FULL = Plan()
QUICK = Plan(days=(2, 6), changes=4)


@dataclass
class DataPage:
    """The /data page (the app's or the pandas baseline's) as a user drives it."""

    session: BrowserlessSession
    aggregation: str = ""
    status: str = ""
    answers: int = 0

    def __post_init__(self) -> None:
        self.aggregation = self.session.find("CustomSelect", css_classes="data-aggregation")
        self.status = self.session.find("Div", css_classes="data-status")

    def next_answer(self) -> asyncio.Future[tuple[float, Event]]:
        """A future for the next answer's status line (register it before causing it)."""
        self.answers += 1
        marker = f"Answer {self.answers}:"
        return self.session.expect(changed(self.status, "text", lambda t: marker in str(t)))

    async def change(self, aggregation: str, within: float) -> float:
        """Choose ``aggregation``; seconds until the new answer is shown."""
        reply = self.next_answer()
        sent = await self.session.change(self.aggregation, "value", aggregation)
        arrived, _ = await asyncio.wait_for(reply, within)
        return arrived - sent


async def _measure(server: Server, plan: Plan, rows: int) -> dict[str, Any]:
    started = time.perf_counter()
    [session] = await open_sessions(server.url, server.path, 1)
    try:
        page = DataPage(session)
        # The page asks its first query once the session is ready; its answer
        # needs the cluster, so it arrives well after this waiter exists.
        first, _ = await asyncio.wait_for(page.next_answer(), FIRST_ANSWER_TIMEOUT_S)
        first -= started
        latencies = [
            await page.change(AGGREGATIONS[i % len(AGGREGATIONS)], ANSWER_TIMEOUT_S)
            for i in range(plan.changes)
        ]
    finally:
        await close_all([session])
    figures = summary_ms(latencies)
    return {
        "rows": rows,
        **figures,
        "rows_per_s_p50": round(rows / (figures["p50_ms"] / 1000)),
        "first_answer_s": rounded(first),
    }


def fits_in_memory(rows: int) -> bool:
    """Whether a pandas copy of ``rows`` rows takes at most half the memory available now."""
    return rows * BYTES_PER_ROW <= psutil.virtual_memory().available / 2


def run(quick: bool, out_dir: Path) -> dict[str, Any]:
    """The ``data`` object of latest.json."""
    plan = QUICK if quick else FULL
    progress = Progress("data", 2 * len(plan.days))
    logs = Path(tempfile.mkdtemp(prefix="bench-data-"))
    app: list[dict[str, Any]] = []
    pandas: list[dict[str, Any]] = []
    with running_dask(logs, plan.workers, plan.threads) as dask:
        for days in plan.days:
            rows = DatasetSpec(days * DAY_ROWS).rows
            env = {"PANEL_DASK_DATA_ROWS": str(rows)}
            with serving(AppServer(logs, dask, extra_env=env, path="/data")) as server:
                app.append(asyncio.run(_measure(server, plan, rows)))
            progress.step(f"app, {rows:,} rows: p50 {app[-1]['p50_ms']} ms")
            if not fits_in_memory(rows):
                pandas.append({"rows": rows, "skipped": "does not fit in half the free memory"})
                progress.step(f"pandas, {rows:,} rows: skipped (memory)")
                continue
            with serving(PageServer(logs, dask, "pandas_data", extra_env=env)) as server:
                pandas.append(asyncio.run(_measure(server, plan, rows)))
            progress.step(f"pandas, {rows:,} rows: p50 {pandas[-1]['p50_ms']} ms")
    if not app:
        raise NotMeasuredError("no dataset size was measured")
    return {
        "changes_per_size": plan.changes,
        "dask_workers": plan.workers,
        "threads_per_worker": plan.threads,
        "app": app,
        "baselines": {"pandas_in_panel": pandas},
        "ratios": {
            "app_p50_over_pandas_p50_by_rows": {
                str(a["rows"]): ratio(a["p50_ms"], b["p50_ms"])
                for a, b in zip(app, pandas, strict=True)
                if "p50_ms" in b
            }
        },
    }


def plot(result: dict[str, Any], out_dir: Path) -> list[Path]:
    """Change-to-plot p50 and rows per second by dataset size, Dask against pandas."""
    plt = pyplot()
    series = {
        "app (Dask workers)": result["app"],
        "pandas in the Panel process": [
            f for f in result["baselines"]["pandas_in_panel"] if "p50_ms" in f
        ],
    }
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    for ax, key, title in zip(
        axes,
        ("p50_ms", "rows_per_s_p50"),
        ("widget change to updated plot, p50 (ms)", "rows aggregated per second (p50)"),
        strict=True,
    ):
        for label, levels in series.items():
            ax.plot([f["rows"] for f in levels], [f[key] for f in levels], "o-", label=label)
        ax.set_xscale("log")
        ax.set_xlabel("dataset rows")
        ax.set_title(title, fontsize=10)
    axes[0].legend(fontsize=8)
    return save(fig, out_dir, "data")
