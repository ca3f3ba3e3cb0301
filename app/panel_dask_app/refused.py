"""Paths the Panel server refuses outright: a `panel serve --plugins` module.

The chart's `/dask` Ingress routes the longer Prefix `/dask/api` here rather
than to the scheduler, whose HTTP API under that path can retire workers. Plain
Ingress longest-prefix routing holds on every conformant controller, where
controller-specific deny annotations are silently dropped by the others
(Traefik ignores ingress-nginx's denylist-source-range). Answering 403 here,
not Panel's 404, tells a user the path exists and is closed on purpose.
"""

from __future__ import annotations

from typing import Any

from tornado.web import HTTPError, RequestHandler

from panel_dask_app.ports import SCHEDULER_API_PREFIX

REASON = "the Dask scheduler's HTTP API is not served through the ingress"


class RefusedHandler(RequestHandler):
    """Answers 403 to every method, before any method handler or auth runs."""

    def prepare(self) -> None:
        """Refuse the request (tornado calls this for every method)."""
        raise HTTPError(403, reason="Forbidden", log_message=REASON)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """A one-line plain-text answer instead of tornado's HTML page."""
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.finish(f"{status_code}: {REASON}\n")


# What `panel serve --plugins panel_dask_app.refused` adds to the server's routes
# (ahead of Bokeh's own). The same element-wise match as an Ingress Prefix path.
ROUTES = [(rf"{SCHEDULER_API_PREFIX}(?:/.*)?", RefusedHandler)]
