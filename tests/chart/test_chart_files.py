"""Checks on the chart's files that need no Kubernetes: docs, CRD copies, ci cases."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest
import yaml
from chart_values_docs import (
    CHART_DIR,
    documented_keys,
    render_table,
    replace_table,
    undocumented_leaves,
)

CI_CASES = [
    "default",
    "ingress-tls",
    "ingress-traefik",
    "ingress-generic",
    "gateway",
    "ha-hpa",
    "autoscaler-off",
    "operator-off",
    "auth",
]
DASK_KUBERNETES_CRDS = ["daskautoscaler", "daskcluster", "daskjob", "daskworkergroup"]


def installed_crd(name: str) -> str:
    package = resources.files("dask_kubernetes.operator.deployment")
    path = package / "helm" / "dask-kubernetes-operator" / "crds" / f"{name}.yaml"
    return path.read_text()


def test_readme_values_table_matches_values_yaml() -> None:
    readme = (CHART_DIR / "README.md").read_text()
    table = render_table((CHART_DIR / "values.yaml").read_text())
    assert replace_table(readme, table) == readme, (
        "charts/panel-dask/README.md values table is stale: "
        "run `python tests/chart/chart_values_docs.py --write` (make chart-docs)"
    )


def test_values_table_generator_sees_a_changed_comment(tmp_path: Path) -> None:
    """The drift check must fail when a description changes (guards the check itself)."""
    values = (CHART_DIR / "values.yaml").read_text()
    changed = values.replace("# -- Number of Panel pods", "# -- How many Panel pods", 1)
    assert changed != values
    readme = (CHART_DIR / "README.md").read_text()
    assert replace_table(readme, render_table(changed)) != readme


def test_every_value_is_documented() -> None:
    text = (CHART_DIR / "values.yaml").read_text()
    documented = {key.path for key in documented_keys(text)}
    missing = undocumented_leaves(yaml.safe_load(text), documented)
    assert not missing, f"values without a `# --` comment: {missing}"
    assert all(key.description for key in documented_keys(text))


def test_schema_covers_exactly_the_values() -> None:
    """Every values.yaml key is in the schema and the schema invents none."""
    schema = json.loads((CHART_DIR / "values.schema.json").read_text())
    values = yaml.safe_load((CHART_DIR / "values.yaml").read_text())

    def compare(node: dict, sub: dict, path: str) -> list[str]:
        problems = []
        props = sub.get("properties", {})
        extra = set(props) - set(node) - {"global"}
        problems += [f"{path}{name}: in schema, not in values.yaml" for name in sorted(extra)]
        for name, child in node.items():
            if name not in props:
                problems.append(f"{path}{name}: not in schema")
            elif isinstance(child, dict) and "required" in props[name]:
                # Chart-defined groups list their keys as required; Kubernetes
                # objects (resources, selectors) are typed without listing keys.
                problems += compare(child, props[name], f"{path}{name}.")
        return problems

    assert schema["additionalProperties"] is False
    assert compare(values, schema, "") == []


@pytest.mark.parametrize("case", CI_CASES)
def test_ci_values_file_opens_with_a_comment(case: str) -> None:
    path = CHART_DIR / "ci" / f"{case}-values.yaml"
    first = path.read_text().splitlines()[0]
    assert first.startswith("# ") and len(first) > 10, f"{path.name} must open with a comment"
    assert isinstance(yaml.safe_load(path.read_text()), dict)


def test_ci_folder_holds_only_the_known_cases() -> None:
    found = sorted(p.name for p in (CHART_DIR / "ci").iterdir())
    assert found == sorted(f"{case}-values.yaml" for case in CI_CASES)


@pytest.mark.parametrize("name", DASK_KUBERNETES_CRDS)
def test_dask_kubernetes_crd_is_the_installed_packages(name: str) -> None:
    """The chart's copy must be byte-identical to the pinned dask-kubernetes' CRD."""
    copied = (CHART_DIR / "crds" / f"{name}.yaml").read_text()
    assert copied == installed_crd(name), (
        f"charts/panel-dask/crds/{name}.yaml differs from the installed dask-kubernetes; "
        "copy it again (see the chart README, 'CRDs and upgrades')"
    )


def test_chart_annotation_names_the_pinned_dask_kubernetes() -> None:
    from importlib.metadata import version

    chart = yaml.safe_load((CHART_DIR / "Chart.yaml").read_text())
    pinned = chart["annotations"]["panel-dask.io/dask-kubernetes-crds-version"]
    assert pinned == version("dask-kubernetes")
