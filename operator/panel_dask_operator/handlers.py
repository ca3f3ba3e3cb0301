"""The kopf handlers of this operator: dask-kubernetes' controller plus the queue autoscaler.

``python -m panel_dask_operator`` loads this module; importing it registers
everything in kopf's default registry.
"""

from __future__ import annotations

from typing import Any

import kopf

# dask-kubernetes' handlers first, so our startup settings run after (and win over) theirs.
import panel_dask_operator.dask_controller  # noqa: F401 - registers handlers
from panel_dask_operator import configure  # noqa: F401 - registers handlers
from panel_dask_operator.kube import GROUP, PLURAL, VERSION
from panel_dask_operator.supervisor import Supervisor

supervisor = Supervisor()


@kopf.on.event(GROUP, VERSION, PLURAL)
async def autoscaler_event(
    type: str, body: kopf.Body, namespace: str | None, name: str, **_: Any
) -> None:
    """Keep one autoscaling loop per live DaskQueueAutoscaler, fed its newest body.

    Async on purpose: kopf runs sync handlers in a thread pool, where the loops'
    tasks could not be created.
    """
    assert namespace
    if type == "DELETED" or body.metadata.get("deletionTimestamp"):
        supervisor.forget(namespace, name)
    else:
        supervisor.upsert(dict(body))


@kopf.on.cleanup()
async def stop_autoscalers(**_: Any) -> None:
    """Cancel the loops before kopf closes its API sessions."""
    await supervisor.close()


@kopf.on.probe(id="autoscalers")
def autoscalers(**_: Any) -> list[str]:
    """List the running autoscaling loops on the liveness endpoint."""
    return supervisor.running
