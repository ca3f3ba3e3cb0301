"""/dask_guide_form: the guide's page with the app's task form, for the responsiveness probe."""

import panel as pn

from bench.guide_page import guide_page
from bench.task_form import task_form

pn.extension()

guide_page(task_form()).servable()
