"""Gateway API CRDs for the test control plane, from the sigs.k8s.io/gateway-api module.

The two release channels define the same CRD names, so one control plane holds one
channel at a time; ``install_crds`` switches by applying the other channel over it.
Standard ships a ValidatingAdmissionPolicy ("safe-upgrades") that refuses exactly
that switch to experimental; it guards users' clusters, not a test control plane,
so it is left out here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml

from panel_dask_testcluster.build import module_source
from panel_dask_testcluster.crds import Kubectl, apply_crd_files, run
from panel_dask_testcluster.pins import GATEWAY_API_MODULE, GATEWAY_API_VERSION

Channel = Literal["standard", "experimental"]
CHANNEL_ANNOTATION = "gateway.networking.k8s.io/channel"


def crd_files(channel: Channel) -> list[Path]:
    """The channel's CRD manifests (the safe-upgrades policy and kustomization left out)."""
    folder = module_source(GATEWAY_API_MODULE, GATEWAY_API_VERSION) / "config" / "crd" / channel
    return sorted(p for p in folder.glob("*.yaml") if "vap_" not in p.name and "_" in p.name)


def install_crds(kubectl: Kubectl, channel: Channel) -> None:
    """Apply the channel's CRDs (over the other channel's, if installed) and wait until served."""
    apply_crd_files(kubectl, crd_files(channel))


def installed_channel(kubectl: Kubectl) -> str:
    """The channel annotation of the installed HTTPRoute CRD."""
    out = run(kubectl, "get", "crd", "httproutes.gateway.networking.k8s.io", "-o", "yaml")
    return str(yaml.safe_load(out)["metadata"]["annotations"][CHANNEL_ANNOTATION])
