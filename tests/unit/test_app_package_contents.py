"""The production image holds no test or development module.

The app image installs the whole app distribution (`images/app.Dockerfile`
copies `app/` and nothing else that is Python), so what the package holds is
what ships. Test helpers live in the test kit and `make dev`'s stack in
`panel_dask_dev`, both in the tools distribution.
"""

import pkgutil
from pathlib import Path

import panel_dask_app

REPO = Path(__file__).resolve().parents[2]
# Module names that mean "for tests or development", wherever they sit in the package.
DENIED_NAMES = {"testing", "tests", "conftest", "fixtures", "local_stack", "dev_worker", "dev"}
DENIED_PREFIXES = ("test_", "dev_")


def is_test_or_dev(module: str) -> bool:
    """Whether a dotted module name looks like a test or development module."""
    return any(
        part in DENIED_NAMES or part.startswith(DENIED_PREFIXES) or part.endswith("_test")
        for part in module.split(".")[1:]
    )


def app_modules() -> list[str]:
    return sorted(
        module.name for module in pkgutil.walk_packages(panel_dask_app.__path__, "panel_dask_app.")
    )


def test_the_app_package_holds_no_test_or_dev_module():
    modules = app_modules()
    assert "panel_dask_app.serve" in modules  # the listing sees the package
    assert [m for m in modules if is_test_or_dev(m)] == []


def test_the_denylist_names_what_used_to_ship():
    for module in [
        "panel_dask_app.testing",
        "panel_dask_app.local_stack",
        "panel_dask_app.dev_worker",
        "panel_dask_app.views.test_helpers",
        "panel_dask_app.conftest",
    ]:
        assert is_test_or_dev(module), module
    assert not is_test_or_dev("panel_dask_app.session")


def test_the_app_image_context_holds_only_the_app_and_its_pins():
    ignore = (REPO / "images" / "app.Dockerfile.dockerignore").read_text().splitlines()
    let_in = sorted(line for line in ignore if line.startswith("!"))
    assert "*" in ignore  # everything else stays out
    assert let_in == ["!app/", "!constraints.txt"]
