"""``python -m bench [--only NAME]... [--quick] [--out DIR]``: run, print, write results.

Runs the chosen benchmarks in order, then writes ``latest.json`` (keeping the
last figures of benchmarks not run this time), one PNG per plot and
``report.md`` into the output folder. Exits non-zero only when a benchmark
could not measure; a figure that misses its goal is reported, not failed.
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import os
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.report import BENCHMARKS, headline, read_json, write_json, write_markdown

RESULTS = Path(__file__).parent / "results"


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--only",
        action="append",
        choices=BENCHMARKS,
        metavar="NAME",
        help=f"run only this benchmark (repeatable): {', '.join(BENCHMARKS)}",
    )
    parser.add_argument(
        "--quick", action="store_true", help="small sizes (a smoke test, not figures to quote)"
    )
    parser.add_argument(
        "--out", type=Path, default=RESULTS, help=f"output folder (default {RESULTS})"
    )
    return parser.parse_args(argv)


def _load() -> float:
    return round(os.getloadavg()[0], 2)


def run_one(name: str, quick: bool, out: Path) -> dict[str, Any]:
    """Run one benchmark; its figures, with when and how it ran, or the error."""
    started, load = time.monotonic(), _load()
    meta: dict[str, Any] = {
        "measured_at_utc": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "quick": quick,
        "cpus": os.cpu_count(),
    }
    try:
        result: dict[str, Any] = importlib.import_module(f"bench.{name}").run(quick, out)
    except Exception as error:  # it could not measure: say why, go on with the others
        traceback.print_exc()
        result = {"error": f"{type(error).__name__}: {error}"}
    meta["run_duration_s"] = round(time.monotonic() - started, 1)
    meta["load_average_1m"] = [load, _load()]
    return {**result, **meta}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    chosen = [name for name in BENCHMARKS if not args.only or name in args.only]
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    results = read_json(out / "latest.json")
    for name in chosen:
        print(f"==> {name}", flush=True)
        results[name] = run_one(name, args.quick, out)
        write_json(results, out / "latest.json")  # a later crash keeps what was measured
    plots: dict[str, list[Path]] = {}
    for name, result in results.items():
        if "error" in result:
            continue
        try:
            plots[name] = importlib.import_module(f"bench.{name}").plot(result, out)
        except Exception:  # an old result a plot no longer understands: report without it
            traceback.print_exc()
    write_json(results, out / "latest.json")
    write_markdown(results, plots, out / "report.md")
    print(f"\n==> results in {out}/latest.json and {out}/report.md")
    for name in chosen:
        print(f"  {name:<15} {headline(name, results[name])}")
    failed = [name for name in chosen if "error" in results[name]]
    if failed:
        print(f"could not measure: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
