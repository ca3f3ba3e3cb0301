"""Hypothesis over the DaskQueueAutoscaler spec, judged by the real kube-apiserver.

The CRD in the chart's crds/ is the only validation a user's `kubectl apply`
meets before the operator reads the spec: every invalid spec must be refused
there, with the field named, and every valid one accepted.
(`kubectl apply --dry-run=server`, strict field validation: unknown fields are
refused too.)
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from panel_dask_testkit.kube import apply_crds, attempt

pytestmark = pytest.mark.controlplane

CLUSTER = st.from_regex(r"\A[a-z]([a-z0-9-]{0,30}[a-z0-9])?\Z")
OPTIONAL = {
    "tasksPerWorker": st.integers(1, 10_000),
    "scaleDownDelaySeconds": st.integers(0, 86_400),
    "pollIntervalSeconds": st.one_of(st.integers(1, 3600), st.floats(0.001, 3600, allow_nan=False)),
    "suspend": st.booleans(),
}


@st.composite
def valid_specs(draw: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {"cluster": draw(CLUSTER)}
    minimum = draw(st.one_of(st.none(), st.integers(0, 100)))
    maximum = draw(st.one_of(st.none(), st.integers(max(minimum or 1, 1), 500)))
    # The defaults are 1 and 10: leaving one out must still keep minimum <= maximum.
    if minimum is not None and (maximum is not None or minimum <= 10):
        spec["minimum"] = minimum
    if maximum is not None and (minimum is not None or maximum >= 1):
        spec["maximum"] = maximum
    for name in draw(st.sets(st.sampled_from(sorted(OPTIONAL)))):
        spec[name] = draw(OPTIONAL[name])
    return spec


# (change to a valid spec, the field the refusal must name)
INVALID = st.one_of(
    st.just(({"cluster": None}, "spec.cluster")),
    st.just(({"cluster": ""}, "spec.cluster")),
    st.text(alphabet="abc", min_size=64, max_size=80).map(
        lambda c: ({"cluster": c}, "spec.cluster")
    ),
    st.integers(-1000, -1).map(lambda v: ({"minimum": v}, "spec.minimum")),
    st.integers(-1000, 0).map(lambda v: ({"maximum": v, "minimum": 0}, "spec.maximum")),
    st.tuples(st.integers(2, 100), st.integers(1, 100))
    .filter(lambda p: p[0] > p[1])
    .map(lambda p: ({"minimum": p[0], "maximum": p[1]}, "spec.minimum")),
    st.integers(-100, 0).map(lambda v: ({"tasksPerWorker": v}, "spec.tasksPerWorker")),
    st.integers(-100, -1).map(
        lambda v: ({"scaleDownDelaySeconds": v}, "spec.scaleDownDelaySeconds")
    ),
    st.one_of(st.floats(-100, 0), st.floats(3600.001, 1e9)).map(
        lambda v: ({"pollIntervalSeconds": v}, "spec.pollIntervalSeconds")
    ),
    st.sampled_from(["three", "1.5x", True]).map(lambda v: ({"minimum": v}, "spec.minimum")),
    st.floats(0.1, 0.9).map(lambda v: ({"maximum": v + 3}, "spec.maximum")),
    st.sampled_from(["yes", 1, "true"]).map(lambda v: ({"suspend": v}, "spec.suspend")),
    st.sampled_from(["maxWorkers", "min", "scaleUpDelaySeconds"]).map(
        lambda k: ({k: 3}, f"spec.{k}")
    ),
)


def resource(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "panel-dask.io/v1alpha1",
        "kind": "DaskQueueAutoscaler",
        "metadata": {"name": name},
        "spec": {k: v for k, v in spec.items() if v is not None},
    }


def dry_run(control_plane: Any, namespace: str, body: dict[str, Any], tmp_path: Any) -> Any:
    # JSON, not YAML: Go's YAML 1.1 reads a bare `n` or `y` as a boolean.
    manifest = tmp_path / "dqa.json"
    manifest.write_text(json.dumps(body))
    return attempt(
        control_plane.kubectl, "apply", "--dry-run=server", "-n", namespace, "-f", str(manifest)
    )


@pytest.fixture(scope="module")
def dqa_namespace(control_plane: Any, namespace_factory: Any) -> str:
    apply_crds(control_plane)
    return namespace_factory()


SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@SETTINGS
@given(spec=valid_specs())
def test_valid_specs_are_accepted(
    control_plane: Any, dqa_namespace: str, tmp_path: Any, spec: dict[str, Any]
) -> None:
    result = dry_run(control_plane, dqa_namespace, resource("ok", spec), tmp_path)
    assert result.returncode == 0, f"{spec}:\n{result.stderr}"


@SETTINGS
@given(spec=valid_specs(), change=INVALID)
def test_invalid_specs_are_refused_naming_the_field(
    control_plane: Any, dqa_namespace: str, tmp_path: Any, spec: dict[str, Any], change: Any
) -> None:
    update, field = change
    body = resource("bad", {**spec, **update})
    result = dry_run(control_plane, dqa_namespace, body, tmp_path)
    assert result.returncode != 0, f"the apiserver accepted {body['spec']}"
    assert field in result.stderr, result.stderr
