"""The upstream internals the operator patches are still the ones that were reviewed."""

from __future__ import annotations

import pytest
from dask_kubernetes.operator.controller import controller

from panel_dask_operator import compat, dask_controller


@pytest.mark.parametrize("name", sorted(compat.REVIEWED))
def test_patched_upstream_source_is_unchanged(name):
    upstream = compat.reviewed_objects()[name]
    assert compat.source_digest(upstream) == compat.REVIEWED[name], (
        f"{name} changed upstream: re-read it, adapt panel_dask_operator.compat "
        "and its callers, then record the new digest"
    )


def test_every_reviewed_name_is_looked_up():
    assert set(compat.reviewed_objects()) == set(compat.REVIEWED)


def test_the_controller_calls_our_replacements_and_we_wrap_its_original():
    assert controller.retire_workers is dask_controller.retire_workers
    assert (
        controller.build_default_worker_group_spec is dask_controller.build_owned_worker_group_spec
    )
    assert compat.ORIGINALS["build_default_worker_group_spec"].__module__ == controller.__name__


async def test_scale_lock_is_the_one_the_replica_handler_takes():
    lock = compat.scale_lock("ns", "g")
    assert lock is controller.worker_group_scale_locks["ns/g"]
