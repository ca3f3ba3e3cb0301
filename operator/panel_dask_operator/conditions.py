"""Status conditions and timestamps, as pure functions over plain dicts."""

from __future__ import annotations

import datetime
from typing import Any

READY = "Ready"


def rfc3339(epoch: float | None) -> str | None:
    """Seconds since the epoch as an RFC 3339 UTC string (None stays None)."""
    if epoch is None:
        return None
    moment = datetime.datetime.fromtimestamp(epoch, datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_rfc3339(text: str | None) -> float | None:
    """The inverse of :func:`rfc3339`; None or unparsable text gives None."""
    if not text:
        return None
    try:
        moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.timestamp()


def ready(
    previous: list[dict[str, Any]], ok: bool, reason: str, message: str
) -> list[dict[str, Any]]:
    """The conditions list with ``Ready`` set; its transition time moves only on a change."""
    status = "True" if ok else "False"
    old = next((c for c in previous if c.get("type") == READY), None)
    changed = old is None or old.get("status") != status or old.get("reason") != reason
    since = now_rfc3339()
    if old is not None and not changed:
        since = str(old.get("lastTransitionTime") or since)
    condition = {
        "type": READY,
        "status": status,
        "reason": reason,
        "message": message,
        "lastTransitionTime": since,
    }
    return [c for c in previous if c.get("type") != READY] + [condition]


def now_rfc3339() -> str:
    """The current time, RFC 3339 UTC."""
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
