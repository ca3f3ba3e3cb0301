"""Checks on the chart's files that need no Kubernetes: docs, CRD copies, ci cases."""

from __future__ import annotations

import json
import shutil
from importlib import resources
from pathlib import Path

import pytest
import yaml

from panel_dask_testcluster import chart_docs
from panel_dask_testcluster.chart_docs import CHART_DIR

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
    "idle-timeout",
]
DASK_KUBERNETES_CRDS = ["daskautoscaler", "daskcluster", "daskjob", "daskworkergroup"]


def installed_crd(name: str) -> str:
    package = resources.files("dask_kubernetes.operator.deployment")
    path = package / "helm" / "dask-kubernetes-operator" / "crds" / f"{name}.yaml"
    return path.read_text()


def values_rows(readme: str) -> dict[str, str]:
    """The values table helm-docs wrote: key -> description."""
    lines = readme.splitlines()
    start = lines.index("| Key | Type | Default | Description |") + 2
    rows = []
    for line in lines[start:]:
        if not line.startswith("| "):
            break
        rows.append(line.removeprefix("| ").removesuffix(" |").split(" | "))
    return {cells[0]: " | ".join(cells[3:]) for cells in rows}


@pytest.fixture(scope="module")
def rendered_readme() -> str:
    return chart_docs.render()


@pytest.fixture
def chart_copy(tmp_path: Path) -> Path:
    return Path(shutil.copytree(CHART_DIR, tmp_path / "panel-dask"))


@pytest.mark.go
def test_readme_is_what_helm_docs_renders(rendered_readme: str) -> None:
    assert rendered_readme == (CHART_DIR / "README.md").read_text(), (
        "charts/panel-dask/README.md is stale: run make chart-docs "
        "(edit README.md.gotmpl and the `# --` comments in values.yaml, never README.md)"
    )


@pytest.mark.go
def test_helm_docs_sees_a_changed_comment(chart_copy: Path, rendered_readme: str) -> None:
    """The drift check must fail when a description changes (guards the check itself)."""
    values = chart_copy / "values.yaml"
    text = values.read_text()
    values.write_text(text.replace("# -- Number of Panel pods", "# -- How many Panel pods", 1))
    assert values.read_text() != text
    changed = chart_docs.render(chart_copy)
    assert changed != rendered_readme
    assert values_rows(changed)["panel.replicas"].startswith("How many Panel pods")


@pytest.mark.go
def test_every_value_is_documented(rendered_readme: str) -> None:
    """helm-docs lists every leaf value; one without a `# --` comment has no description."""
    rows = values_rows(rendered_readme)
    assert "panel.replicas" in rows and "autoscaler.maximum" in rows
    undocumented = [key for key, description in rows.items() if not description.strip()]
    assert not undocumented, f"values without a `# --` comment: {undocumented}"


@pytest.mark.go
def test_a_value_without_a_comment_is_caught(chart_copy: Path) -> None:
    values = chart_copy / "values.yaml"
    text = values.read_text()
    values.write_text(text.replace("# -- Number of Panel pods", "# Number of Panel pods", 1))
    assert values_rows(chart_docs.render(chart_copy))["panel.replicas"] == ""


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
