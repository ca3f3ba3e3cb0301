"""What a browser does when its Panel server goes away, and what the next page says about it.

A session lives in one Panel process. When that process dies (a pod killed,
a rolling update), the websocket closes and the session cannot come back:
another replica never saw it. Bokeh's own reconnect would re-attach the page
to a session rebuilt from the websocket request, which loses the page
template's layout. So the browser, told ``connection_lost``, shows a banner,
waits until the app answers ``/health`` again (through the load balancer,
which sends it to a live replica) and reloads with ``?reconnected=1``; the
fresh session sees that argument and explains what happened.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import panel as pn
from bokeh.document import Document
from bokeh.models import CustomJS

RECONNECTED_ARG = "reconnected"
BANNER_CLASS = "panel-dask-reconnecting"

# A fixed banner the user sees at once, then a reload when a replica answers.
# `health` resolves against the page URL, so a path prefix is kept.
_ON_CONNECTION_LOST = f"""
if (window.panelDaskReconnecting) {{ return }}
window.panelDaskReconnecting = true
const banner = document.createElement("div")
banner.className = "{BANNER_CLASS}"
banner.setAttribute("role", "alert")
banner.style.cssText = "position:fixed;top:0;left:0;right:0;z-index:10000;padding:12px;" +
  "background:#9a6700;color:#fff;font:600 15px sans-serif;text-align:center"
banner.textContent = "The connection to the server was lost. Opening a new session…"
document.body.appendChild(banner)
const target = new URL(window.location.href)
target.searchParams.set("{RECONNECTED_ARG}", "1")
const health = new URL("health", target)
let delay = 250
const attempt = async () => {{
  try {{
    const response = await fetch(health, {{cache: "no-store"}})
    if (response.ok) {{ window.location.replace(target.href); return }}
  }} catch (error) {{}}
  delay = Math.min(delay * 2, 5000)
  setTimeout(attempt, delay)
}}
setTimeout(attempt, delay)
"""

# Drop the marker from the address bar, so a later manual reload is not
# announced as a reconnect.
_FORGET_MARKER = f"""
const url = new URL(window.location.href)
if (url.searchParams.has("{RECONNECTED_ARG}")) {{
  url.searchParams.delete("{RECONNECTED_ARG}")
  window.history.replaceState(window.history.state, "", url.href)
}}
"""

TASKS_LOST = (
    " Tasks you had submitted there were cancelled on the Dask cluster with that "
    "session; submit them again."
)


def reconnect_notice_text(
    session_args: Mapping[str, Sequence[bytes]], extra: str = ""
) -> str | None:
    """The notice for a page opened by a reconnect, or None for an ordinary visit."""
    if not session_args.get(RECONNECTED_ARG):
        return None
    return (
        "**Reconnected to a new session.** The server that ran your previous session "
        "stopped, so this page was reloaded on another one." + extra
    )


def install_reconnect(doc: Document) -> None:
    """Make this page reload into a fresh session when its server connection is lost."""
    doc.js_on_event("connection_lost", CustomJS(code=_ON_CONNECTION_LOST))
    doc.js_on_event("document_ready", CustomJS(code=_FORGET_MARKER))


def reconnect_notice(extra: str = "") -> pn.pane.Alert | None:
    """An alert for the top of the page when this session replaces a lost one."""
    text = reconnect_notice_text(pn.state.session_args or {}, extra)
    if text is None:
        return None
    return pn.pane.Alert(
        text, alert_type="warning", css_classes=["reconnect-notice"], sizing_mode="stretch_width"
    )
