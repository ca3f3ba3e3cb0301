"""``python -m bench.profile``: where the Panel server's time goes while many sessions offload.

The method behind the offload figures (``make profile``): the offload
benchmark's load (N sessions clicking Submit on ``sleep_seconds(0.02)``, thinking
1–3 s between clicks) runs against one server while py-spy samples that server
from outside, with no change to the process it measures. It writes

* ``profile-<page>-<N>.svg``: the flame graph;
* ``profile-<page>-<N>.md``: the functions holding the most samples, inclusive
  (the function or anything it called was running) and self (it was).

``--page guide`` profiles the guide page under the same load, for comparison.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from bench.drivers import GuidePage, TasksPage
from bench.offload import FULL, page_level
from bench.progress import Progress
from bench.servers import AppServer, PageServer, Server, serving
from panel_dask_testkit.local_dask import running_dask

RESULTS = Path(__file__).parent / "results"
SAMPLE_RATE_HZ = 200
TOP = 40
DISPATCH = "Handle._run (asyncio/events.py)"


def frame_name(frame: str) -> str:
    """``function (path/to/module.py:line)`` without the line and the site-packages prefix."""
    name, _, where = frame.partition(" (")
    where = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", "/lib/python3"):
        if marker in where:
            where = where.split(marker, 1)[1]
    return f"{name} ({where})" if where else name


def top_functions(
    collapsed: Iterable[str], top: int = TOP
) -> tuple[int, list[tuple[str, int, int]]]:
    """Total samples, and the functions with most inclusive samples: (name, inclusive, self).

    ``collapsed`` is py-spy's raw format: one ``frame;frame;...;leaf count`` per line,
    outermost first. A function on a stack twice (recursion) counts once for it.
    """
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in collapsed:
        stack, _, count_text = line.rstrip("\n").rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [frame_name(frame) for frame in stack.split(";")]
        # The thread's name leads each stack; it is not a function.
        frames = [f for f in frames if not f.startswith(("process ", "thread "))]
        # What the event loop dispatched, not the server's start-up frames around it.
        if DISPATCH in frames:
            frames = frames[len(frames) - frames[::-1].index(DISPATCH) :]
        if not frames:
            continue
        total += count
        for name in set(frames):
            inclusive[name] += count
        own[frames[-1]] += count
    rows = [(name, samples, own[name]) for name, samples in inclusive.most_common(top)]
    return total, rows


def markdown(
    title: str, latency: dict[str, Any], total: int, rows: list[tuple[str, int, int]]
) -> str:
    """The top table as a Markdown page."""
    lines = [
        f"# {title}",
        "",
        f"Offload overhead while sampled: p50 {latency['p50_ms']} ms, p99 {latency['p99_ms']} ms "
        f"({latency['n']} actions). {total} samples at {SAMPLE_RATE_HZ} Hz, idle threads excluded.",
        "",
        "| function | inclusive | self |",
        "|---|---|---|",
    ]
    for name, inclusive, own in rows:
        lines.append(f"| `{name}` | {100 * inclusive / total:.1f}% | {100 * own / total:.1f}% |")
    return "\n".join(lines) + "\n"


def profile(page: str, sessions: int, window: float, out: Path) -> Path:
    """Sample the server of ``page`` under ``sessions`` offloading users; the report's path."""
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    progress = Progress("profile", 3)
    logs = Path(tempfile.mkdtemp(prefix="bench-profile-"))
    stem = out / f"profile-{page}-{sessions}"
    raw = logs / "stacks.txt"
    with running_dask(logs, FULL.workers, FULL.threads) as dask:
        server: Server = (
            AppServer(logs, dask) if page == "tasks" else PageServer(logs, dask, "dask_guide")
        )
        driver = TasksPage if page == "tasks" else GuidePage
        with serving(server):
            progress.step(f"serving {page} (pid {server.pid}); opening {sessions} sessions")
            recorders: list[subprocess.Popen[bytes]] = []

            def record() -> None:
                progress.note(f"sessions open; sampling for {window:.0f} s")
                recorders.extend(
                    subprocess.Popen(
                        [
                            py_spy,
                            "record",
                            "--pid",
                            str(server.pid),
                            "--rate",
                            str(SAMPLE_RATE_HZ),
                            "--duration",
                            str(int(window)),
                            "--format",
                            fmt,
                            "--output",
                            str(path),
                            "--nonblocking",
                        ],
                        stdout=subprocess.DEVNULL,
                    )
                    for fmt, path in (("flamegraph", stem.with_suffix(".svg")), ("raw", raw))
                )

            plan = dataclasses.replace(FULL, window_s=window)
            latency = asyncio.run(page_level(server, driver, sessions, plan, on_warm=record))
            for recorder in recorders:
                recorder.wait(timeout=120)
            progress.step(f"offload p50 {latency['p50_ms']} ms, p99 {latency['p99_ms']} ms")
    total, rows = top_functions(raw.read_text().splitlines())
    report = stem.with_suffix(".md")
    title = f"Panel server profile: {server.path}, {sessions} sessions offloading"
    report.write_text(markdown(title, latency, total, rows))
    progress.step(f"wrote {report} and {stem.with_suffix('.svg')}")
    return report


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.profile", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--page", choices=("tasks", "guide"), default="tasks")
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--window", type=float, default=30.0, help="seconds of load sampled")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    args.out.mkdir(parents=True, exist_ok=True)
    print(Path(profile(args.page, args.sessions, args.window, args.out)).read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
