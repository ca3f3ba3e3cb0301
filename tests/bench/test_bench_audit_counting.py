"""The operator_scale benchmark's counting over an apiserver audit log (pure parsing, no cluster).

The lines are shaped like the control plane's metadata-level JSON audit events.
"""

from __future__ import annotations

import json
from pathlib import Path

from bench.operator_scale import NAMESPACE, by_kind, first_request, operator_requests, since
from panel_dask_testkit.kube import OPERATOR_SERVICE_ACCOUNT

OPERATOR = f"system:serviceaccount:{NAMESPACE}:{OPERATOR_SERVICE_ACCOUNT}"


def event(user: str, verb: str, resource: str, stamp: str, stage: str = "ResponseComplete"):
    return {
        "kind": "Event", "stage": stage, "verb": verb,
        "user": {"username": user}, "objectRef": {"resource": resource},
        "requestReceivedTimestamp": stamp,
    }  # fmt: skip


def test_only_the_operators_completed_requests_in_the_window_count(tmp_path: Path) -> None:
    log = tmp_path / "audit.log"
    lines = [
        event(OPERATOR, "list", "daskworkergroups", "2026-01-01T00:00:00.500000Z"),
        event(OPERATOR, "patch", "daskworkergroups", "2026-01-01T00:00:01.250000Z"),
        event(OPERATOR, "patch", "daskworkergroups", "2026-01-01T00:00:01.250000Z", "Panic"),
        event(OPERATOR, "create", "deployments", "2026-01-01T00:00:01.500000Z"),
        event(OPERATOR, "create", "deployments", "2026-01-01T00:00:09.000000Z"),  # after
        event("system:kube-controller-manager", "create", "pods", "2026-01-01T00:00:02Z"),
        event(f"{OPERATOR}x", "get", "pods", "2026-01-01T00:00:02Z"),
    ]
    log.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    start = 1767225600.0  # 2026-01-01T00:00:00Z
    events = operator_requests(log, start, start + 5)
    assert by_kind(events) == {
        "patch daskworkergroups": 2,
        "list daskworkergroups": 1,
        "create deployments": 1,
    }
    assert first_request(events, "patch", "daskworkergroups") == start + 1.25
    assert first_request(events, "delete", "deployments") is None


def test_second_resolution_stamps_count_from_a_second_early_as_upper_bounds() -> None:
    assert since([99.0, 100.0, 101.0, 105.0], 100.2, resolution=1.0) == [0.8, 1.8, 5.8]
    assert since([100.5, 101.0, 99.0], 100.2) == [0.3, 0.8]
