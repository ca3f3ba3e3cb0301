"""Install CustomResourceDefinitions on a test cluster and wait until they are served."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import yaml

Kubectl = Callable[..., subprocess.CompletedProcess[str]]


def apply_crd_files(kubectl: Kubectl, files: Iterable[Path]) -> None:
    """Apply the CRDs (server-side, over older copies) and wait until each is Established."""
    paths = list(files)
    run(kubectl, "apply", "--server-side", "--force-conflicts",
        *[arg for path in paths for arg in ("-f", str(path))])  # fmt: skip
    names = [f"crd/{crd_name(path)}" for path in paths]
    run(kubectl, "wait", "--for=condition=Established", "--timeout=60s", *names)


def crd_name(path: Path) -> str:
    """The ``metadata.name`` of a CRD manifest."""
    doc: dict[str, Any] = yaml.safe_load(path.read_text())
    return str(doc["metadata"]["name"])


def run(kubectl: Kubectl, *args: str) -> str:
    """Run kubectl; fail with its stderr."""
    result = kubectl(*args, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"kubectl {' '.join(args[:3])} failed:\n{result.stderr}")
    return result.stdout
