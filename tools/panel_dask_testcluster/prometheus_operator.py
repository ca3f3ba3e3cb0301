"""prometheus-operator's monitoring CRDs for the test control plane, from its Go module.

The chart's ServiceMonitors and PodMonitors are checked by the API server
against these schemas, as on a cluster where kube-prometheus-stack is installed.
"""

from __future__ import annotations

from pathlib import Path

from panel_dask_testcluster.build import module_source
from panel_dask_testcluster.crds import Kubectl, apply_crd_files
from panel_dask_testcluster.pins import PROMETHEUS_OPERATOR_MODULE, PROMETHEUS_OPERATOR_VERSION

# The kinds the chart renders; the module ships ten.
KINDS = ("servicemonitors", "podmonitors")


def crd_files() -> list[Path]:
    """The CRD manifests of the kinds the chart renders."""
    module = module_source(PROMETHEUS_OPERATOR_MODULE, PROMETHEUS_OPERATOR_VERSION)
    folder = module / "example" / "prometheus-operator-crd"
    return [folder / f"monitoring.coreos.com_{kind}.yaml" for kind in KINDS]


def install_crds(kubectl: Kubectl) -> None:
    """Apply the monitoring CRDs and wait until the API server serves them."""
    apply_crd_files(kubectl, crd_files())
