"""The app's task form without the app: the trivial callback the bench pages share.

A Select of tasks and an input the server resets to the chosen task's default,
as on /tasks: choosing the other task is one change sent and one change back,
no Dask involved (see ``drivers.TaskForm``).
"""

from __future__ import annotations

import panel as pn

from panel_dask_app.tasks import TASKS


def task_form() -> pn.Column:
    """The Select and the input it resets, as the browser-less driver finds them."""
    select = pn.widgets.Select(options={spec.label: name for name, spec in TASKS.items()})
    argument = pn.widgets.TextInput(
        value=TASKS[select.value].default, css_classes=["task-argument"]
    )

    def reset_argument(event: object) -> None:
        argument.value = TASKS[select.value].default

    select.param.watch(reset_argument, "value")
    return pn.Column(select, argument)
