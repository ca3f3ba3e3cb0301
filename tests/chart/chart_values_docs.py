"""Generate the chart README's values table from the `# --` comments in values.yaml.

The comments follow helm-docs' convention (`# -- description` right above a
key), so the chart reads the same to anyone used to argo-helm or grafana's
charts; this small script keeps the table without a Go tool in the build.

    python tests/chart/chart_values_docs.py --write   # rewrite the README table
    python tests/chart/chart_values_docs.py --check   # exit 1 when it has drifted
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

CHART_DIR = Path(__file__).resolve().parents[2] / "charts" / "panel-dask"
BEGIN_MARKER = "<!-- values-table:begin (generated from values.yaml: make chart-docs) -->"
END_MARKER = "<!-- values-table:end -->"

_KEY_LINE = re.compile(r"^(?P<indent> *)(?P<key>[A-Za-z_][A-Za-z0-9_]*):(?:\s|$)")
_DOC_START = re.compile(r"^ *# -- ?(?P<text>.*)$")
_DOC_MORE = re.compile(r"^ *# ?(?P<text>.*)$")


@dataclass(frozen=True)
class DocumentedKey:
    """One `# --` comment and the dotted path of the key it documents."""

    path: str
    description: str


def documented_keys(text: str) -> list[DocumentedKey]:
    """Return every documented key of a values file, in file order.

    A `# --` comment (plus following `#` lines) documents the next key; the key's
    dotted path comes from indentation, so nested keys read `panel.replicas`.
    """
    found: list[DocumentedKey] = []
    stack: list[tuple[int, str]] = []
    pending: list[str] | None = None
    for line in text.splitlines():
        start = _DOC_START.match(line)
        if start:
            pending = [start["text"].strip()]
            continue
        if pending is not None and line.lstrip().startswith("#"):
            more = _DOC_MORE.match(line)
            pending.append(more["text"].strip() if more else "")
            continue
        key = _KEY_LINE.match(line)
        if not key:
            if line.strip() and not line.lstrip().startswith(("#", "-")):
                pending = None
            continue
        indent = len(key["indent"])
        while stack and stack[-1][0] >= indent:
            stack.pop()
        stack.append((indent, key["key"]))
        if pending is not None:
            path = ".".join(name for _, name in stack)
            found.append(DocumentedKey(path, " ".join(p for p in pending if p)))
            pending = None
    return found


def undocumented_leaves(values: dict[str, Any], documented: set[str]) -> list[str]:
    """Return dotted paths of leaf keys that neither they nor an ancestor document."""
    missing: list[str] = []

    def walk(node: Any, path: str) -> None:
        if path in documented:
            return
        if isinstance(node, dict) and node:
            for name, child in node.items():
                walk(child, f"{path}.{name}" if path else name)
        elif path:
            missing.append(path)

    walk(values, "")
    return missing


def lookup(values: dict[str, Any], path: str) -> Any:
    """Return the value at a dotted path."""
    node: Any = values
    for name in path.split("."):
        node = node[name]
    return node


def type_name(value: Any) -> str:
    """Name a value's type the way helm-docs does."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    return "object"


def render_table(values_text: str) -> str:
    """Render the Markdown values table for a values file's text."""
    values = yaml.safe_load(values_text)
    rows = ["| Key | Type | Default | Description |", "| --- | --- | --- | --- |"]
    for doc in documented_keys(values_text):
        value = lookup(values, doc.path)
        default = json.dumps(value, separators=(",", ":"))
        description = doc.description.replace("|", "\\|")
        rows.append(f"| `{doc.path}` | {type_name(value)} | `{default}` | {description} |")
    return "\n".join(rows) + "\n"


def replace_table(readme: str, table: str) -> str:
    """Return the README with the text between the markers replaced by the table."""
    begin = readme.index(BEGIN_MARKER) + len(BEGIN_MARKER)
    end = readme.index(END_MARKER)
    return readme[:begin] + "\n" + table + readme[end:]


def main(argv: list[str] | None = None) -> int:
    """Write or check the chart README's values table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help="rewrite the table in README.md")
    mode.add_argument("--check", action="store_true", help="exit 1 when README.md has drifted")
    parser.add_argument("--chart", type=Path, default=CHART_DIR, help="chart folder")
    args = parser.parse_args(argv)
    readme_path = args.chart / "README.md"
    readme = readme_path.read_text()
    updated = replace_table(readme, render_table((args.chart / "values.yaml").read_text()))
    if args.write:
        readme_path.write_text(updated)
        return 0
    if updated != readme:
        print(f"{readme_path}: values table is stale; run {Path(__file__).name} --write")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
