"""Write what the benchmarks measured: latest.json, report.md and one line of figures each.

Results are plain nested dicts. The report renders them generically (scalars
as a figures table, dicts of dicts and lists of dicts as tables), so a
benchmark can add a figure without touching this module; each benchmark's
method is its module docstring, and one headline per benchmark states the
figures the README quotes.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

BENCHMARKS = ("offload", "responsiveness", "sessions", "autoscaler", "operator_scale", "data")
# Before/after tables of each performance change, written by hand from runs of
# this benchmark suite; the report carries them so one page tells the story.
CHANGES = Path(__file__).parent / "results" / "changes.md"
RAW_SERIES = {"timeline", "timelines", "runs"}  # kept in the JSON, not tabulated
META = {"measured_at_utc", "quick", "run_duration_s", "load_average_1m", "cpus", "error"}

Scalar = str | int | float | bool | None


def write_json(results: Mapping[str, Any], path: Path) -> None:
    """latest.json: one object per benchmark, in the benchmarks' order."""
    ordered = {name: results[name] for name in BENCHMARKS if name in results}
    path.write_text(json.dumps(ordered, indent=1) + "\n")


def read_json(path: Path) -> dict[str, Any]:
    """A previous latest.json, or nothing when there is none or it is unreadable."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in data.items() if k in BENCHMARKS and isinstance(v, dict)}


def _fmt(value: Scalar) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for row in rows:
        cells = [_fmt(c) if _scalar(c) else json.dumps(c) for c in row]
        lines.append("| " + " | ".join(cells) + " |")
    return lines + [""]


def _records_table(title: str, records: Mapping[str, Mapping[str, Any]] | list[Any]) -> list[str]:
    """Rows of scalar figures: a dict of dicts (row names) or a list of dicts."""
    named = records.items() if isinstance(records, Mapping) else [(None, r) for r in records]
    rows = [(name, {k: v for k, v in r.items() if _scalar(v)}) for name, r in named]
    columns: list[str] = []
    for _, row in rows:
        columns += [k for k in row if k not in columns]
    first = [] if isinstance(records, list) else [""]
    lines = [f"**{title}**", ""]
    return lines + _table(
        first + columns,
        [([] if name is None else [name]) + [row.get(c) for c in columns] for name, row in rows],
    )


def render_figures(result: Mapping[str, Any]) -> list[str]:
    """Every figure of one benchmark as Markdown: one table of single figures, then tables."""
    scalars: list[tuple[str, Any]] = []
    blocks: list[str] = []

    def walk(node: Mapping[str, Any], prefix: str) -> None:
        for key, value in node.items():
            if key in RAW_SERIES or key in META:
                continue
            name = f"{prefix}{key}"
            if _scalar(value) or (isinstance(value, list) and all(_scalar(v) for v in value)):
                scalars.append((name, value))
            elif isinstance(value, list) and all(isinstance(v, Mapping) for v in value):
                blocks.extend(_records_table(name, value))
            elif (
                isinstance(value, Mapping)
                and value
                and all(
                    isinstance(v, Mapping) and all(_scalar(x) for x in v.values())
                    for v in value.values()
                )
            ):
                blocks.extend(_records_table(name, value))
            elif isinstance(value, Mapping):
                walk(value, f"{name}.")

    walk(result, "")
    head = _table(["figure", "value"], scalars) if scalars else []
    return head + blocks


def _method(name: str) -> str:
    doc = importlib.import_module(f"bench.{name}").__doc__ or ""
    return doc.strip()


def _get(result: Mapping[str, Any], *path: Any) -> Any:
    node: Any = result
    for key in path:
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def _levels(levels: Any, key: str) -> str:
    if not isinstance(levels, list):
        return "–"
    return ", ".join(f"{_fmt(f.get(key))}" for f in levels)


P50_OVER_GUIDE = "app_p50_over_guide_page_p50_by_sessions"
P99_OVER_GUIDE = "app_p99_over_guide_page_p99_by_sessions"


def _offload(r: Mapping[str, Any]) -> str:
    sessions = _levels(r.get("app"), "sessions")
    return (
        f"offload overhead p50 at {sessions} sessions: app {_levels(r.get('app'), 'p50_ms')} ms; "
        f"bare Dask client {_levels(_get(r, 'baselines', 'dask_client'), 'p50_ms')} ms; "
        f"Panel-guide page {_levels(_get(r, 'baselines', 'panel_guide_page'), 'p50_ms')} ms "
        f"(guide quotes ~{_fmt(_get(r, 'baselines', 'panel_guide_quoted_ms'))} ms); "
        f"p99 app {_levels(r.get('app'), 'p99_ms')} ms; app over guide page, median of "
        f"{_fmt(r.get('repetitions'))} runs: p50 {_medians(_get(r, 'ratios', P50_OVER_GUIDE))}, "
        f"p99 {_medians(_get(r, 'ratios', P99_OVER_GUIDE))}; goal "
        f"<= {_fmt(_get(r, 'goal', 'app_p50_and_p99_over_guide_page_at_most'))}x at "
        f"{_get(r, 'goal', 'at_sessions')} sessions met: {_fmt(_get(r, 'goal', 'met'))}"
    )


def _medians(by_level: Any) -> str:
    """``1.2x (1.1-1.4), ...``: a ratio's median and range per level."""
    if not isinstance(by_level, Mapping):
        return "–"
    return ", ".join(
        f"{_fmt(s.get('median'))}x ({_fmt(s.get('min'))}–{_fmt(s.get('max'))})"
        for s in by_level.values()
        if isinstance(s, Mapping)
    )


def _responsiveness(r: Mapping[str, Any]) -> str:
    blocking = _get(r, "baselines", "blocking_callbacks") or {}
    guide = _get(r, "baselines", "panel_guide_page") or {}
    p99 = _get(r, "ratios", "app_p99_over_guide_page_p99") or {}
    return (
        f"trivial callback while {_fmt(r.get('loader_sessions'))} sessions offload: app p50 "
        f"{_fmt(_get(r, 'app', 'p50_ms'))} / p99 {_fmt(_get(r, 'app', 'p99_ms'))} ms; guide page "
        f"p50 {_fmt(guide.get('p50_ms'))} / p99 {_fmt(guide.get('p99_ms'))} ms; blocking "
        f"callbacks p50 {_fmt(blocking.get('p50_ms'))} / p99 {_fmt(blocking.get('p99_ms'))} ms; "
        f"app p99 over guide p99 {_fmt(p99.get('median'))}x ({_fmt(p99.get('min'))}–"
        f"{_fmt(p99.get('max'))}), goal <= "
        f"{_fmt(_get(r, 'goal', 'app_p99_over_guide_page_p99_at_most'))}x met: "
        f"{_fmt(_get(r, 'goal', 'met'))}"
    )


def _sessions(r: Mapping[str, Any]) -> str:
    bare = _get(r, "baselines", "bare_panel_page") or {}
    app = r.get("app") or {}

    def capacity(v: Mapping[str, Any]) -> str:
        at_least = "≥" if v.get("capacity_is_lower_bound") else ""
        return f"{at_least}{_fmt(v.get('capacity_sessions_p99_under_100ms'))}"

    return (
        f"memory per session: app {_fmt(app.get('memory_per_session_mib'))} MiB, bare page "
        f"{_fmt(bare.get('memory_per_session_mib'))} MiB; sessions with p99 < 100 ms: app "
        f"{capacity(app)}, bare page {capacity(bare)}"
    )


def _autoscaler(r: Mapping[str, Any]) -> str:
    variants = r.get("variants") or {}
    parts = [
        f"{name}: decision {_fmt(v.get('decision_s'))} s, makespan {_fmt(v.get('makespan_s'))} s"
        for name, v in variants.items()
        if isinstance(v, Mapping)
    ]
    return "burst on the local stack: " + "; ".join(parts)


def _operator_scale(r: Mapping[str, Any]) -> str:
    return (
        f"1 -> {_fmt(r.get('target_ready_workers'))} Ready workers in "
        f"{_fmt(r.get('ready_workers_s'))} s (decision {_fmt(r.get('decision_s'))} s); "
        f"{_fmt(r.get('api_requests_during_scale_up'))} operator API requests during the "
        f"scale-up; idle {_fmt(r.get('idle_requests_per_minute_at_1_worker'))} requests/min"
    )


def _data(r: Mapping[str, Any]) -> str:
    pandas = _get(r, "baselines", "pandas_in_panel") or []

    def pandas_figure(key: str) -> str:
        return ", ".join(_fmt(f.get(key)) if key in f else "skipped" for f in pandas)

    return (
        f"widget change to updated plot p50 at {_levels(r.get('app'), 'rows')} rows: app "
        f"{_levels(r.get('app'), 'p50_ms')} ms, pandas in the Panel process "
        f"{pandas_figure('p50_ms')} ms; rows/s app {_levels(r.get('app'), 'rows_per_s_p50')}, "
        f"pandas {pandas_figure('rows_per_s_p50')}; first answer (dataset generated) app "
        f"{_levels(r.get('app'), 'first_answer_s')} s"
    )


HEADLINES: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "offload": _offload,
    "responsiveness": _responsiveness,
    "sessions": _sessions,
    "autoscaler": _autoscaler,
    "operator_scale": _operator_scale,
    "data": _data,
}


def headline(name: str, result: Mapping[str, Any]) -> str:
    """One line of this benchmark's main figures (or why it could not measure)."""
    if "error" in result:
        return f"could not measure: {result['error']}"
    try:
        return HEADLINES[name](result)
    except Exception as error:  # a renamed figure must not hide the others
        return f"(headline unavailable: {error!r})"


def write_markdown(
    results: Mapping[str, Any], plots: Mapping[str, Sequence[Path]], path: Path
) -> None:
    """report.md: per benchmark its headline, method, plots and every figure."""
    lines = [
        "# panel-dask benchmarks",
        "",
        "Written by `make bench` (`python -m bench`); the figures are also in "
        "[latest.json](latest.json). Each benchmark runs its baselines in the same run, "
        "because a shared 2-core machine is noisy: compare ratios rather than absolute "
        "times across runs. `load_average_1m` is the machine's load when the benchmark "
        "started and ended (2 cores: above 2 means other work competed for them).",
        "",
    ]
    if CHANGES.exists():
        lines += [CHANGES.read_text().strip(), ""]
    for name in BENCHMARKS:
        result = results.get(name)
        if result is None:
            continue
        meta = ", ".join(
            f"{key} {_fmt(result[key]) if _scalar(result[key]) else result[key]}"
            for key in ("measured_at_utc", "quick", "run_duration_s", "load_average_1m")
            if key in result
        )
        lines += [f"## {name}", "", f"**{headline(name, result)}**", "", f"_{meta}_", ""]
        lines += [_method(name), ""]
        for plot in plots.get(name, []):
            lines += [f"![{name}]({plot.name})", ""]
        if "error" not in result:
            lines += render_figures(result)
    path.write_text("\n".join(lines).rstrip() + "\n")
