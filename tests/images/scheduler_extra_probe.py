"""Import the scheduler's HTTP route modules with only the app and its `scheduler` extra.

Run as a script by test_scheduler_extra.py. Every module that neither the
standard library nor a distribution app/pyproject.toml requires (its
dependencies and its `scheduler` extra, then theirs, transitively) provides is
refused at import, as if the dev venv's other packages were not installed.
Prints one JSON line: each route module and the handler classes it serves, or
the import error it met.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.metadata
import json
import sys
import tomllib
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

APP = "panel-dask-app"
PYPROJECT = Path(__file__).resolve().parents[2] / "app" / "pyproject.toml"


def app_requirements() -> list[str]:
    """What app/pyproject.toml itself asks for a scheduler: dependencies plus the extra."""
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    return [*project["dependencies"], *project["optional-dependencies"]["scheduler"]]


def required_distributions(requirements: Iterable[str]) -> set[str]:
    """The app and every distribution ``requirements`` pull in, by installed metadata."""
    seen: set[tuple[str, tuple[str, ...]]] = set()
    stack = [(Requirement(line), ("",)) for line in requirements]
    while stack:
        requirement, extras = stack.pop()
        marker = requirement.marker
        if marker is not None and not any(marker.evaluate({"extra": e}) for e in extras):
            continue
        wanted = tuple(sorted(requirement.extras))
        key = (canonicalize_name(requirement.name), wanted)
        if key in seen:
            continue
        seen.add(key)
        for line in importlib.metadata.requires(requirement.name) or []:
            stack.append((Requirement(line), ("", *wanted)))
    return {canonicalize_name(APP)} | {dist for dist, _ in seen}


class OnlyThese(importlib.abc.MetaPathFinder):
    """Refuses top-level modules that only distributions outside ``allowed`` provide."""

    def __init__(self, allowed: set[str]) -> None:
        self.allowed = allowed
        self.providers = importlib.metadata.packages_distributions()

    def find_spec(self, fullname: str, path: object, target: object = None) -> None:
        top = fullname.partition(".")[0]
        providers = {canonicalize_name(d) for d in self.providers.get(top, [])}
        if providers and not providers & self.allowed and top not in sys.stdlib_module_names:
            raise ModuleNotFoundError(f"{top} is not required by {APP}[scheduler]", name=top)
        return None


def handlers(module: ModuleType) -> list[str]:
    return [f"{route[1].__module__}.{route[1].__name__}" for route in module.routes]


def main() -> None:
    sys.meta_path.insert(0, OnlyThese(required_distributions(app_requirements())))
    from panel_dask_app.scheduler_routes import SCHEDULER_HTTP_ROUTES

    found: dict[str, list[str] | str] = {}
    for name in SCHEDULER_HTTP_ROUTES:
        try:
            found[name] = handlers(importlib.import_module(name))
        except ImportError as exc:
            found[name] = f"ImportError: {exc}"
    print(json.dumps(found))


if __name__ == "__main__":
    main()
