"""A team's own pages, named in ``PANEL_DASK_APPS``: what an entry may be, and its file.

An entry is a path handed to `panel serve` (a ``.py``, ``.ipynb`` or ``.md``
file, or a directory app) or the dotted name of an importable module, served
from its source file. :func:`is_entry` judges the spelling only, so
Settings can refuse a typo at once; :func:`resolve` looks at the file system and
the Python path, which `panel-dask-serve` does before it execs Panel. The chart's
values.schema.json repeats :data:`ENTRY_PATTERN` (a test keeps the two equal).
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Sequence
from pathlib import Path

# What `panel serve` runs as a page; anything else with a slash is a directory app.
PAGE_SUFFIXES = (".py", ".ipynb", ".md")
_MODULE = r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*"
# A path: no comma (entries travel comma-separated) and no whitespace.
_PATH = r"[^,\s]*/[^,\s]*|[^,\s/]+\.(py|ipynb|md)"
ENTRY_PATTERN = rf"^({_PATH}|{_MODULE})$"
ALLOWED = (
    "a path inside the image (a .py, .ipynb or .md page, or a directory app) "
    "or an importable module name such as acme_sales.pages.sales"
)


class AppNotFoundError(ValueError):
    """An entry names no file, or no module on the Python path; the message names it."""


def is_path(entry: str) -> bool:
    """A path when it has a slash or a page suffix; otherwise a module name."""
    return "/" in entry or entry.endswith(PAGE_SUFFIXES)


def is_entry(entry: str) -> bool:
    """Whether ``entry`` is spelled like a path or a module name (nothing is looked up)."""
    return re.fullmatch(ENTRY_PATTERN, entry) is not None


def parse_entries(text: str) -> tuple[str, ...]:
    """Comma-separated entries, each checked by :func:`is_entry`; blanks are skipped.

    Raises:
        ValueError: what an entry may be and the first one that is neither; each
            caller names what it read (a variable, a flag).
    """
    entries = tuple(item.strip() for item in text.split(",") if item.strip())
    for entry in entries:
        if not is_entry(entry):
            raise ValueError(f"expected comma-separated entries, each {ALLOWED}; got {entry!r}")
    return entries


def route(entry: str) -> str:
    """The URL path `panel serve` gives the entry's page: its file's or module's name."""
    if is_path(entry):
        path = Path(entry)
        return f"/{path.stem if path.suffix in PAGE_SUFFIXES else path.name}"
    return f"/{entry.rpartition('.')[2]}"


def resolve(entry: str) -> Path:
    """The file or directory `panel serve` runs for ``entry``.

    Raises:
        AppNotFoundError: no such path, not a page, or no importable module of that name.
    """
    if is_path(entry):
        path = Path(entry)
        if not path.exists():
            raise AppNotFoundError(f"{entry!r}: no such file or directory")
        if path.is_file() and path.suffix not in PAGE_SUFFIXES:
            raise AppNotFoundError(f"{entry!r}: not a page ({', '.join(PAGE_SUFFIXES)})")
        return path.resolve()
    try:
        # find_spec imports the parent packages, not the page module itself:
        # a page builds its session's objects when Panel runs it, not here.
        spec = importlib.util.find_spec(entry)
    except ImportError as error:
        raise AppNotFoundError(f"{entry!r}: cannot be imported ({error})") from None
    if spec is None:
        raise AppNotFoundError(
            f"{entry!r}: no module of that name on the Python path (is its package installed?)"
        )
    if spec.submodule_search_locations is not None:
        raise AppNotFoundError(f"{entry!r} is a package: name one of its page modules")
    if spec.origin is None or not spec.origin.endswith(".py"):
        raise AppNotFoundError(f"{entry!r}: not a Python source module ({spec.origin})")
    return Path(spec.origin)


def resolve_all(entries: Sequence[str]) -> list[Path]:
    """Every entry's file, in order; two pages may not share a route (the file's stem).

    Raises:
        AppNotFoundError: the first entry that cannot be served, or two with one route.
    """
    paths = [resolve(entry) for entry in entries]
    routes: dict[str, str] = {}
    for entry in entries:
        served_at = route(entry)
        if served_at in routes:
            raise AppNotFoundError(
                f"{routes[served_at]!r} and {entry!r} would both be served at {served_at}"
            )
        routes[served_at] = entry
    return paths
