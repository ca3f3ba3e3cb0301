"""Operator-wide kopf settings, applied once at startup."""

from __future__ import annotations

import logging
from typing import Any

import kopf

# kopf's own (1 … 21 s, about a minute in all), then every 30 s: about ten minutes.
RETRY_BACKOFFS = (1, 1, 2, 3, 5, 8, 13, 21, *([30] * 18))


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, **_: Any) -> None:
    """Timeouts that survive idle watch streams; a namespaced, least-privilege footprint.

    Watch streams are re-opened every 2 minutes because an idle connection can go
    silently dead (nolar/kopf#698, nolar/kopf#204); API requests give up after 10 s
    instead of kopf's default 5 minutes. A failed API request is retried for about
    ten minutes, not kopf's default one: past that kopf escalates the error, which
    ends the watch stream's task, and an apiserver upgrade or outage should cost a
    pause, not lost watches or a restart. One operator replica runs at a time
    (Recreate), so peering is off unless ``--peering`` asks for it, and namespace
    and CRD scanning are off so a namespaced Role is enough.
    """
    settings.watching.server_timeout = 120
    settings.watching.client_timeout = 150
    settings.watching.connect_timeout = 5
    settings.networking.request_timeout = 10
    settings.networking.error_backoffs = RETRY_BACKOFFS
    if not settings.peering.mandatory:
        settings.peering.standalone = True
    settings.scanning.disabled = True
    settings.posting.level = logging.WARNING


@kopf.on.probe(id="alive")
def alive(**_: Any) -> bool:
    """Answer the liveness endpoint once the operator's loop runs."""
    return True
