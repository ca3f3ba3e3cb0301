"""Bad values make `helm install` fail before anything is created, naming the field."""

from __future__ import annotations

import re
from typing import Any

import pytest
from chart_cluster import render

from panel_dask_testkit.kube import CHART_DIR, attempt, get_json

pytestmark = pytest.mark.controlplane

# (--set arguments, pattern the error must contain). Helm reports schema paths
# as `panel.replicas` or `/panel/replicas` depending on its version.
BAD_VALUES = {
    "negative-replicas": (["panel.replicas=-1"], r"panel[./]replicas"),
    "minimum-above-maximum": (
        ["autoscaler.minimum=5", "autoscaler.maximum=2"],
        r"autoscaler\.minimum \(5\) must be less than or equal to autoscaler\.maximum \(2\)",
    ),
    "misspelled-top-level-key": (["panle.replicas=3"], r"panle"),
    "string-for-a-number": (["panel.replicas=three"], r"panel[./]replicas"),
    "hpa-min-above-max": (
        ["panel.autoscaling.minReplicas=5", "panel.autoscaling.maxReplicas=3"],
        r"panel\.autoscaling\.minReplicas",
    ),
    "unknown-pull-policy": (["image.pullPolicy=Sometimes"], r"image[./]pullPolicy"),
    "tls-without-secret": (
        ["ingress.tls.enabled=true"],
        r"ingress\.tls\.secretName",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_VALUES))
def test_helm_install_refuses_bad_values_naming_the_field(
    control_plane: Any, namespace: Any, case: str
) -> None:
    settings, pattern = BAD_VALUES[case]
    args = [arg for setting in settings for arg in ("--set", setting)]
    result = attempt(
        control_plane.helm, "install", "panel-dask", str(CHART_DIR), "--namespace", namespace,
        *args,
    )  # fmt: skip
    assert result.returncode != 0, f"helm install accepted {settings}"
    assert re.search(pattern, result.stderr), result.stderr
    releases = attempt(control_plane.helm, "list", "--namespace", namespace, "--all", "-q")
    assert releases.stdout.strip() == ""
    assert get_json(control_plane, "deployments,secrets,ingresses", "-n", namespace)["items"] == []


def test_good_values_next_to_the_bad_ones_render(control_plane: Any) -> None:
    """The same fields with valid values pass, so the failures above are the values' fault."""
    args = [
        "--set", "panel.replicas=0", "--set", "autoscaler.minimum=2",
        "--set", "autoscaler.maximum=2", "--set", "image.pullPolicy=Never",
    ]  # fmt: skip
    docs = render(control_plane, "panel-dask", "ns", *args)
    assert {d["kind"] for d in docs} >= {"Deployment", "DaskCluster", "DaskQueueAutoscaler"}


def test_existing_cookie_secret_replaces_the_generated_one(control_plane: Any) -> None:
    docs = render(
        control_plane, "panel-dask", "ns", "--set", "panel.cookieSecret.existingSecret=mine"
    )
    assert not [d for d in docs if d["kind"] == "Secret"]
    panel = next(
        d for d in docs if d["metadata"]["name"] == "panel-dask-panel" and d["kind"] == "Deployment"
    )
    env = {e["name"]: e for e in panel["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["PANEL_COOKIE_SECRET"]["valueFrom"]["secretKeyRef"]["name"] == "mine"
