"""Load dask-kubernetes' controller into this kopf process, minus its finalizing timers.

kopf gives every resource a timer handler matches a finalizer (``requires_finalizer``
is always true for timers). dask-kubernetes has two timers: ``daskautoscaler_adapt``
(its duration-based DaskAutoscaler, which would fight the queue autoscaler) and
``daskcluster_autoshutdown`` (acts only when ``spec.idleTimeout`` is set). Left as
they are, every DaskCluster carries a finalizer and its deletion hangs whenever the
operator is gone first (e.g. ``helm uninstall``). So the first is dropped and the
second is kept only for clusters that set ``idleTimeout``.
"""

from __future__ import annotations

from typing import Any

import kopf
from dask_kubernetes.operator.controller import controller

DROPPED = (controller.daskautoscaler_adapt, controller.daskcluster_autoshutdown)


def _idle_timeout_set(spec: kopf.Spec, **_: Any) -> bool:
    return bool(spec.get("idleTimeout"))


def trim(registry: kopf.OperatorRegistry) -> None:
    """Remove the finalizing timers from ``registry`` and re-add autoshutdown, filtered."""
    spawning = registry._spawning  # kopf has no public API to unregister a handler
    spawning._handlers[:] = [h for h in spawning._handlers if h.fn not in DROPPED]
    kopf.timer(
        "daskcluster.kubernetes.dask.org",
        interval=5.0,
        when=_idle_timeout_set,
        registry=registry,
    )(controller.daskcluster_autoshutdown)


trim(kopf.get_default_registry())
