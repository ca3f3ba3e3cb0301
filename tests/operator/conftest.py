"""The operator's stack on the real control plane, for the modules that ask for ``stack``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from operator_cluster import Stack, running_stack


@pytest.fixture(scope="module")
def stack(control_plane: Any, namespace_factory: Any, tmp_path_factory: Any) -> Iterator[Stack]:
    """The chart, a scheduler, the worker kubelet and the operator, for one test module."""
    with running_stack(control_plane, namespace_factory, tmp_path_factory) as running:
        yield running
