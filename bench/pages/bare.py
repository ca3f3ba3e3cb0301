"""The session-capacity baseline: the smallest page with the app's trivial callback.

A Select of tasks and an input the server resets to the chosen task's default,
as on /tasks, with no template, no table, no Dask: what one session of Panel
itself costs.
"""

import panel as pn

from panel_dask_app.tasks import TASKS

pn.extension()

select = pn.widgets.Select(options={spec.label: name for name, spec in TASKS.items()})
argument = pn.widgets.TextInput(value=TASKS[select.value].default, css_classes=["task-argument"])


def _reset_argument(event):
    argument.value = TASKS[event.new].default


select.param.watch(_reset_argument, "value")
pn.Column(select, argument).servable()
