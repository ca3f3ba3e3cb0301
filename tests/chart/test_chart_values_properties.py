"""Hypothesis over the chart's values: invalid values are refused naming the field, valid ones
render and are accepted by the real kube-apiserver.

Each example changes a few fields of the default values. An invalid one must
make `helm template` fail with the field's path in the message (a schema path
`/panel/replicas` or a `fail` naming `panel.replicas`); a valid one must render
and pass `kubectl apply --dry-run=server` in a namespace enforcing the
`restricted` Pod Security Standard, CRD validation of the chart's resources included.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from panel_dask_testkit.kube import CHART_DIR, RESTRICTED, apply_crds, attempt

pytestmark = pytest.mark.controlplane

DNS_LABEL = st.from_regex(r"\A[a-z]([a-z0-9-]{0,20}[a-z0-9])?\Z")
NOT_DNS = st.sampled_from(["Bad_Name", "UPPER", "-leading", "trailing-", "has space", "a.b_c"])
NOT_INT = st.one_of(st.text(alphabet="abcxyz", min_size=1, max_size=5), st.floats(0.1, 0.9))


def integers(low: int, high: int | None = None) -> Any:
    return st.integers(low, high if high is not None else low + 10_000)


# (dotted path, valid values, invalid values)
FIELDS: list[tuple[str, Any, Any]] = [
    ("panel.replicas", integers(0, 10), st.one_of(integers(-100, -1), NOT_INT)),
    ("panel.port", integers(1, 65535), st.one_of(integers(-10, 0), integers(65536))),
    ("panel.numThreads", integers(1, 64), st.one_of(integers(-5, 0), integers(65))),
    (
        "panel.maxOutstandingTasks",
        integers(1, 10_000),
        st.one_of(integers(-5, 0), integers(10_001)),
    ),
    ("panel.maxOutstandingTasksPerProcess", integers(1, 1_000_000), integers(-5, 0)),
    (
        "panel.extraWebsocketOrigins",
        st.lists(st.from_regex(r"\A[a-z]{1,10}(\.[a-z]{2,5})?(:[1-9][0-9]{0,3})?\Z"), max_size=3),
        st.lists(st.sampled_from(["http://x.org", "a b", "x/y"]), min_size=1, max_size=2),
    ),  # noqa: E501
    (
        "panel.cookieSecret.key",
        st.from_regex(r"\A[a-z][-._a-z0-9]{0,15}\Z"),
        st.sampled_from(["", "a b", "k/ey"]),
    ),  # noqa: E501
    (
        "image.pullPolicy",
        st.sampled_from(["Always", "IfNotPresent", "Never"]),
        st.sampled_from(["always", "Sometimes", ""]),
    ),  # noqa: E501
    ("autoscaler.tasksPerWorker", integers(1, 1000), integers(-10, 0)),
    ("autoscaler.scaleDownDelaySeconds", integers(0, 86_400), integers(-100, -1)),
    (
        "autoscaler.pollIntervalSeconds",
        st.floats(0.05, 3600),
        st.one_of(st.floats(-10, 0), st.floats(3600.5, 1e6)),
    ),  # noqa: E501
    ("dask.worker.threads", integers(1, 64), integers(-5, 0)),
    ("dask.worker.replicas", integers(0, 50), integers(-5, -1)),
    ("ingress.websocketTimeoutSeconds", integers(1, 86_400), integers(-5, 0)),
    (
        "ingress.host",
        st.from_regex(r"\A[a-z]{1,10}(\.[a-z]{2,6}){0,2}\Z"),
        st.sampled_from(["Bad.Host", "a_b.org", "x/y"]),
    ),  # noqa: E501
    ("ingress.dashboard.basicAuthSecret", DNS_LABEL, NOT_DNS),
    ("panel.auth.basic.existingSecret", DNS_LABEL, NOT_DNS),
    ("panel.cookieSecret.existingSecret", DNS_LABEL, NOT_DNS),
    ("ingress.tls.secretName", DNS_LABEL, NOT_DNS),
    ("panel.auth.type", st.just("none"), st.sampled_from(["ldap", "Basic", ""])),
    # Other presets are VALID_COMBINATIONS: they refuse ingress-nginx's basicAuthSecret.
    ("ingress.controller", st.just("nginx"), st.sampled_from(["istio", "Traefik", ""])),
    ("networkPolicy.ingressControllerNamespace", DNS_LABEL, NOT_DNS),
]
# Fields that contradict each other: (values, path the message must name).
CONTRADICTIONS = st.one_of(
    st.tuples(integers(2, 50), integers(1, 50))
    .filter(lambda pair: pair[0] > pair[1])
    .map(lambda p: ({"autoscaler": {"minimum": p[0], "maximum": p[1]}}, "autoscaler.minimum")),
    st.just(({"panel": {"auth": {"type": "basic"}}}, "panel.auth.basic.existingSecret")),
    st.just(({"panel": {"auth": {"type": "oauth"}}}, "panel.auth.oauth.provider")),
    st.just(({"ingress": {"tls": {"enabled": True}}}, "ingress.tls.secretName")),
    st.tuples(st.sampled_from(["traefik", "generic"]), DNS_LABEL).map(
        lambda p: (
            {"ingress": {"controller": p[0], "dashboard": {"basicAuthSecret": p[1]}}},
            "ingress.dashboard.basicAuthSecret",
        )
    ),
)
VALID_COMBINATIONS = st.one_of(
    st.tuples(st.sampled_from(["traefik", "generic"]), DNS_LABEL).map(
        lambda p: {
            "ingress": {"controller": p[0], "className": p[1], "dashboard": {"basicAuthSecret": ""}}
        }
    ),
    st.tuples(integers(0, 20), integers(1, 20))
    .filter(lambda pair: pair[0] <= pair[1])
    .map(lambda p: {"autoscaler": {"minimum": p[0], "maximum": p[1]}}),
    DNS_LABEL.map(lambda s: {"panel": {"auth": {"type": "basic", "basic": {"existingSecret": s}}}}),
    st.tuples(st.sampled_from(["github", "google", "azure", "generic"]), DNS_LABEL).map(
        lambda p: {
            "panel": {
                "auth": {"type": "oauth", "oauth": {"provider": p[0], "existingSecret": p[1]}}
            }
        }  # noqa: E501
    ),
)


def nested(path: str, value: Any) -> dict[str, Any]:
    for key in reversed(path.split(".")):
        value = {key: value}
    return value


def merge(into: dict[str, Any], more: dict[str, Any]) -> dict[str, Any]:
    for key, value in more.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            merge(into[key], value)
        else:
            into[key] = value
    return into


def names_field(message: str, path: str) -> bool:
    """Whether helm's message names the field, as `a.b.c` or as the schema path `/a/b/c`."""
    parts = [re.escape(p) for p in path.split(".")]
    return re.search("[./]".join(parts), message) is not None


def template(control_plane: Any, namespace: str, values: dict[str, Any], tmp_path: Any) -> Any:
    # JSON (which helm reads as YAML): Go's YAML 1.1 would read a bare `y` or `n`
    # that PyYAML leaves unquoted as a boolean.
    overrides = tmp_path / "values.json"
    overrides.write_text(json.dumps(values))
    return attempt(
        control_plane.helm, "template", "panel-dask", str(CHART_DIR),
        "--namespace", namespace, "-f", str(overrides),
    )  # fmt: skip


@pytest.fixture(scope="module")
def restricted(control_plane: Any, namespace_factory: Any) -> str:
    apply_crds(control_plane)
    return namespace_factory(labels=RESTRICTED)


SETTINGS = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@SETTINGS
@given(data=st.data())
def test_an_invalid_value_is_refused_naming_its_field(
    control_plane: Any, restricted: str, tmp_path: Any, data: Any
) -> None:
    if data.draw(st.booleans(), label="contradiction"):
        values, path = data.draw(CONTRADICTIONS, label="values")
    else:
        path, _, invalid = data.draw(st.sampled_from(FIELDS), label="field")
        values = nested(path, data.draw(invalid, label="value"))
    result = template(control_plane, restricted, values, tmp_path)
    assert result.returncode != 0, f"helm accepted {values}"
    assert names_field(result.stderr, path), result.stderr


@SETTINGS
@given(data=st.data())
def test_valid_values_render_and_the_apiserver_accepts_them(
    control_plane: Any, restricted: str, tmp_path: Any, data: Any
) -> None:
    values: dict[str, Any] = {}
    for path, valid, _ in data.draw(st.lists(st.sampled_from(FIELDS), max_size=4), label="fields"):
        merge(values, nested(path, data.draw(valid, label=path)))
    if data.draw(st.booleans(), label="combination"):
        merge(values, data.draw(VALID_COMBINATIONS, label="combination"))
    result = template(control_plane, restricted, values, tmp_path)
    assert result.returncode == 0, f"helm refused {values}:\n{result.stderr}"
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(result.stdout)
    applied = attempt(
        control_plane.kubectl, "apply", "--dry-run=server", "-n", restricted, "-f", str(manifest)
    )
    assert applied.returncode == 0, f"{values}:\n{applied.stderr}"
    assert "PodSecurity" not in applied.stderr, applied.stderr
