"""Every place this operator reaches into dask-kubernetes' or kopf's internals, and nowhere else.

None of these is a public API, so each one is pinned twice: the dependencies
carry an upper bound (``operator/pyproject.toml``), and :data:`REVIEWED` holds
a digest of the source of every upstream function or class this module
replaces, wraps or relies on, as read at the pinned versions.
``tests/operator/test_compat.py`` fails when an upgrade changes one of them:
re-read the new source, adapt the patch, then record the new digest.
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
from collections.abc import Callable, Collection
from typing import Any

import kopf
from dask_kubernetes.operator.controller import controller
from kopf._core.intents import registries

# Upstream functions replaced below, kept as they were (their source is what was reviewed).
ORIGINALS: dict[str, Any] = {
    name: getattr(controller, name)
    for name in ("retire_workers", "build_default_worker_group_spec")
}

# sha256 (first 16 hex digits) of inspect.getsource() at dask-kubernetes 2026.3.0, kopf 1.45.2.
REVIEWED: dict[str, str] = {
    # Replaced: our retirement plan instead of its LIFO fallback (see dask_controller).
    "controller.retire_workers": "248f49d0ea5f42b4",
    # Wrapped: the default worker group gets its owner reference from birth.
    "controller.build_default_worker_group_spec": "76757d32fb31e7b4",
    # Calls the two above by their module-global names, so the replacements take effect.
    "controller.daskworkergroup_replica_update": "223e70b9420cddee",
    "controller.daskcluster_create_components": "aa080350af70222c",
    # Its timers: one dropped, one re-registered behind a filter.
    "controller.daskautoscaler_adapt": "b1619889babc0b85",
    "controller.daskcluster_autoshutdown": "64ed4e4e88a2baf6",
    # kopf keeps timer handlers in registry._spawning._handlers; no public way to remove one.
    "registries.OperatorRegistry.__init__": "4dac6d542c7cbefc",
    "registries.GenericRegistry": "39a5634f55b48ba8",
}


def reviewed_objects() -> dict[str, Any]:
    """The upstream objects :data:`REVIEWED` names, as installed (originals, not our patches)."""
    return {
        "controller.retire_workers": ORIGINALS["retire_workers"],
        "controller.build_default_worker_group_spec": ORIGINALS["build_default_worker_group_spec"],
        "controller.daskworkergroup_replica_update": controller.daskworkergroup_replica_update,
        "controller.daskcluster_create_components": controller.daskcluster_create_components,
        "controller.daskautoscaler_adapt": controller.daskautoscaler_adapt,
        "controller.daskcluster_autoshutdown": controller.daskcluster_autoshutdown,
        "registries.OperatorRegistry.__init__": registries.OperatorRegistry.__init__,
        "registries.GenericRegistry": registries.GenericRegistry,
    }


def source_digest(obj: Any) -> str:
    """The first 16 hex digits of the sha256 of an object's source text."""
    return hashlib.sha256(inspect.getsource(obj).encode()).hexdigest()[:16]


def scale_lock(namespace: str, group: str) -> asyncio.Lock:
    """The lock dask-kubernetes' replica handler holds while it scales ``group``.

    It runs in this process; holding its lock makes "retire, delete these
    Deployments, patch replicas" atomic for it.
    """
    lock: asyncio.Lock = controller.worker_group_scale_locks[f"{namespace}/{group}"]
    return lock


def timer_handlers(registry: kopf.OperatorRegistry) -> Collection[Any]:
    """The timer (and daemon) handlers registered in ``registry``."""
    return registry._spawning.get_all_handlers()


def drop_timers(registry: kopf.OperatorRegistry, functions: Collection[Callable[..., Any]]) -> None:
    """Unregister the timers that run any of ``functions``."""
    spawning = registry._spawning
    spawning._handlers[:] = [h for h in spawning._handlers if h.fn not in functions]


def replace_controller_functions(
    retire_workers: Callable[..., Any], build_default_worker_group_spec: Callable[..., Any]
) -> None:
    """Make dask-kubernetes' handlers call ours; they look both names up at call time."""
    controller.retire_workers = retire_workers
    controller.build_default_worker_group_spec = build_default_worker_group_spec
