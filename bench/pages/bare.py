"""The session-capacity baseline: the smallest page with the app's trivial callback.

A Select of tasks and an input the server resets to the chosen task's default,
as on /tasks, with no template, no table, no Dask: what one session of Panel
itself costs.
"""

import panel as pn

from bench.task_form import task_form

pn.extension()

task_form().servable()
