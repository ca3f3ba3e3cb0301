"""Matplotlib for the benchmarks' plots: headless, one PNG per figure."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def pyplot() -> Any:
    """``matplotlib.pyplot`` on the Agg backend (no display), imported only when plotting."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save(figure: Any, out_dir: Path, name: str) -> list[Path]:
    """Lay out and write ``figure`` as ``out_dir/<name>.png``, then free it; the written paths."""
    figure.tight_layout()
    path = out_dir / f"{name}.png"
    figure.savefig(path, dpi=100)
    pyplot().close(figure)
    return [path]
