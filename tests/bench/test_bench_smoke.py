"""`python -m bench --quick --only offload` end to end: real Dask, real panel serve, real sessions.

Checks the shape of what the benchmark writes and that every figure is a
measurement (a positive number), never how fast anything was.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.dask, pytest.mark.timeout(900)]

REPO = Path(__file__).resolve().parents[2]
LATENCY_KEYS = {"n", "p50_ms", "p90_ms", "p99_ms", "mean_ms", "max_ms"}


def assert_levels(levels, sessions):
    assert [level["sessions"] for level in levels] == sessions
    for level in levels:
        assert LATENCY_KEYS <= set(level), level
        assert level["n"] > 0
        assert 0 < level["p50_ms"] <= level["p99_ms"] <= level["max_ms"], level


def test_quick_offload_writes_json_report_and_plot(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--only", "offload", "--out", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=840,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "offload" in result.stdout and "p50" in result.stdout  # progress lines, headline

    latest = json.loads((tmp_path / "latest.json").read_text())
    assert list(latest) == ["offload"]
    offload = latest["offload"]
    assert "error" not in offload
    assert offload["quick"] is True
    sessions = [level["sessions"] for level in offload["app"]]
    assert len(sessions) >= 2
    assert_levels(offload["app"], sessions)
    assert_levels(offload["baselines"]["dask_client"], sessions)
    assert_levels(offload["baselines"]["panel_guide_page"], sessions)
    assert offload["baselines"]["panel_guide_quoted_ms"] == 250.0
    ratios = offload["ratios"]["app_p50_over_dask_client_p50_by_sessions"]
    assert set(ratios) == {str(s) for s in sessions}
    assert all(value > 0 for value in ratios.values())

    report = (tmp_path / "report.md").read_text()
    assert "## offload" in report and "![offload](offload.png)" in report
    assert (tmp_path / "offload.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_benchmark_that_cannot_measure_fails_the_run_and_says_why(tmp_path):
    # A scheduler address nothing listens on: the offload benchmark cannot
    # measure, so the run must exit non-zero and record the reason.
    (tmp_path / "latest.json").write_text(json.dumps({"sessions": {"kept": 1}}))
    result = subprocess.run(
        [sys.executable, "-c",
         "import sys, bench.offload as o, bench.__main__ as m\n"
         "def broken(quick, out): raise o.NotMeasuredError('no scheduler')\n"
         "o.run = broken\n"
         "sys.exit(m.main(['--quick', '--only', 'offload', '--out', sys.argv[1]]))",
         str(tmp_path)],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    latest = json.loads((tmp_path / "latest.json").read_text())
    assert latest["offload"]["error"] == "NotMeasuredError: no scheduler"
    assert latest["sessions"] == {"kept": 1}  # figures of benchmarks not run are kept
    assert "could not measure: offload" in result.stderr
    assert "could not measure: NotMeasuredError" in (tmp_path / "report.md").read_text()
