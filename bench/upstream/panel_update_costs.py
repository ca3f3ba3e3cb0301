"""Costs inside Panel that the tasks page pays on every change, each in isolation.

``python bench/upstream/panel_update_costs.py`` needs only Panel (and pandas); it
prints one line per finding, the median of many updates, so each can be quoted
in an upstream report. No server, no browser: a Bokeh Document stands in for a
session, as a served page renders into one.

1. A component in a template asks its design for stylesheet modifiers on every
   property change (``Reactive._update_properties`` calls ``Design.params``, which
   resolves the design's stylesheet paths), although they are used only when
   ``stylesheets`` itself changes.
2. A template registers every component's model under a second root id for its
   pre-processing (``BaseTemplate._init_doc``) and never removes it, so every
   later change is processed once per id: twice.
3. ``Tabulator.stream`` of one row costs more than replacing the whole value of a
   small table: it concatenates the frames, re-triggers ``value`` and converts
   the new rows.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import pandas as pd
import panel as pn
from bokeh.document import Document

UPDATES = 300


def per_update_ms(update: Callable[[int], None], count: int = UPDATES) -> float:
    """Median milliseconds of ``update(i)`` over ``count`` calls, after a warm-up."""
    for i in range(10):
        update(i)
    times = []
    for i in range(count):
        started = time.perf_counter()
        update(i)
        times.append(time.perf_counter() - started)
    return round(1000 * statistics.median(times), 3)


def served(component: pn.viewable.Viewable, template: bool) -> None:
    """Render ``component`` into a fresh document, in a template or as the page itself."""
    document = Document()
    if template:
        pn.template.BootstrapTemplate(main=[component]).server_doc(document)
    else:
        component.server_doc(document)


def text_update(template: bool) -> tuple[float, int]:
    """Milliseconds per StaticText value change, and how many root ids its model is under."""
    text = pn.widgets.StaticText(value="0")
    served(pn.Column(text), template)

    def change(i: int) -> None:
        text.value = str(i)

    return per_update_ms(change), len(text._models)


def table(rows: int, start: int = 0) -> pd.DataFrame:
    """A task-table-like frame of ``rows`` rows, numbered from ``start``."""
    return pd.DataFrame(
        {
            "#": range(start, start + rows),
            "task": "sleep_seconds",
            "state": "finished",
            "duration (s)": 0.02,
            "result or error": "0.02",
        },
        index=pd.RangeIndex(start, start + rows),
    )


def table_append(rows: int, stream: bool) -> float:
    """Milliseconds to show one more row: Tabulator.stream, or a new value."""
    widget = pn.widgets.Tabulator(table(rows), show_index=False, disabled=True)
    served(pn.Column(widget), template=False)
    shown = [rows]

    def append(_: int) -> None:
        if stream:
            widget.stream(table(1, shown[0]))
        else:
            widget.value = table(shown[0] + 1)
        shown[0] += 1

    return per_update_ms(append, count=100)


def main() -> None:
    """Print each finding with its figures."""
    pn.extension("tabulator")
    plain_ms, plain_roots = text_update(template=False)
    templated_ms, templated_roots = text_update(template=True)
    print(f"panel {pn.__version__}, {UPDATES} updates each, median")
    print(
        f"1+2. StaticText value change: {plain_ms} ms as the page, {templated_ms} ms in a "
        f"BootstrapTemplate ({templated_ms / plain_ms:.1f}x); its model is under "
        f"{plain_roots} root id as the page, {templated_roots} in the template"
    )
    for rows in (10, 100):
        replace_ms, stream_ms = table_append(rows, stream=False), table_append(rows, stream=True)
        print(
            f"3. Tabulator of {rows} rows, one row more: value replaced {replace_ms} ms, "
            f"stream {stream_ms} ms ({stream_ms / replace_ms:.1f}x)"
        )


if __name__ == "__main__":
    main()
