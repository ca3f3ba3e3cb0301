"""The offload baseline: a page written the way Panel's "Scaling with Dask" how-to writes it.

As in the guide's app.py: a ``pn.cache``d asynchronous client, a button watched by
an async ``pn.depends`` callback that awaits ``client.submit`` and writes the
result. Only the task and the output differ: the app's ``run_task`` (so the
worker reports the task's own run time) and a Markdown pane instead of the
guide's Terminal. Served by bench/pages/dask_guide.py, and with the task form
beside it by bench/pages/dask_guide_form.py.
"""

from __future__ import annotations

import os
from typing import Any

import panel as pn
from distributed import Client

from panel_dask_app.remote import run_task


@pn.cache  # shared by every session, as in the guide
async def get_client() -> Client:
    return await Client(os.environ["DASK_SCHEDULER_ADDRESS"], asynchronous=True)


def guide_page(*extra: Any) -> pn.Column:
    """One session's page: the guide's form and result, then ``extra`` components."""
    seconds = pn.widgets.FloatInput(value=0.02, name="seconds", width=100, css_classes=["seconds"])
    submit_button = pn.widgets.Button(label="SUBMIT", color="primary", align="end")
    result = pn.pane.Markdown("no run yet", css_classes=["result"])
    runs: list[None] = []

    @pn.depends(submit_button, watch=True)
    async def _handle_click(_: object) -> None:
        runs.append(None)
        run = len(runs)
        client = await get_client()
        outcome = await client.submit(run_task, "sleep_seconds", seconds.value, pure=False)
        result.object = f"run {run}: duration={outcome['duration']:.6f}"

    return pn.Column("# Offload like the guide", pn.Row(seconds, submit_button), result, *extra)
