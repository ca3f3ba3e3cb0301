"""/dask_guide: the offload baseline, a page written as Panel's Dask how-to writes it."""

import panel as pn

from bench.guide_page import guide_page

pn.extension()

guide_page().servable()
