"""`panel-dask-serve`: run `panel serve` for the app's pages, configured from the environment.

The command is built by a pure function so tests check every flag without
starting a server; ``main`` then replaces this process with it, so signals from
Kubernetes or the local stack reach Panel directly.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

from panel_dask_app import user_apps
from panel_dask_app.config import ConfigError, Settings

PAGES_DIR = Path(__file__).parent / "pages"
# Panel's index shows /thumbnails/<page>.png for each page when served.
THUMBNAILS_DIR = Path(__file__).parent / "thumbnails"
INDEX_TEMPLATE = Path(__file__).parent / "index.html"
PAGES = ("tasks", "data", "dashboard")
INDEX_TITLES = {
    "tasks": "Run tasks on Dask",
    "data": "Explore a Dask DataFrame",
    "dashboard": "Dask dashboard",
}
HEALTH_ENDPOINT = "health"
# Run by `panel serve --setup` in the server process: metrics endpoint, collector settings.
SETUP_SCRIPT = Path(__file__).parent / "server_setup.py"
# Routes the server adds ahead of its pages: the 403 for the scheduler API path.
PLUGINS = ("panel_dask_app.refused",)


def page_paths() -> list[Path]:
    """The page scripts, in the order the index lists them."""
    return [PAGES_DIR / f"{page}.py" for page in PAGES]


def build_command(
    settings: Settings, extra_args: Sequence[str] = (), pages: Sequence[Path] | None = None
) -> list[str]:
    """The `panel serve` argv for these settings; ``extra_args`` are appended verbatim.

    ``pages`` are the files to serve (a team's own, resolved from ``settings.apps``);
    None serves ours.
    """
    command = [
        sys.executable,
        "-m",
        "panel",
        "serve",
        *(str(path) for path in (page_paths() if pages is None else pages)),
        "--address",
        settings.panel_address,
        "--port",
        str(settings.panel_port),
        # One process per pod: the shared Dask client and the session state
        # live in it; replicas scale out instead.
        "--num-procs",
        "1",
        "--num-threads",
        str(settings.num_threads),
        "--liveness",
        "--liveness-endpoint",
        HEALTH_ENDPOINT,
        # No --global-loading-spinner: Panel's busy state is process-wide
        # (see views/layout.py, TEMPLATE_STYLE).
        "--index",
        str(INDEX_TEMPLATE),
        "--static-dirs",
        f"thumbnails={THUMBNAILS_DIR}",
        "--index-titles",
        # Panel keys index titles by route, leading slash included.
        *(f"/{page}={title}" for page, title in INDEX_TITLES.items()),
    ]
    for plugin in PLUGINS:
        command += ["--plugins", plugin]
    command += ["--setup", str(SETUP_SCRIPT)]
    for origin in settings.allow_websocket_origin:
        command += ["--allow-websocket-origin", origin]
    if settings.use_xheaders:
        command.append("--use-xheaders")
    return [*command, *extra_args]


def served_pages(settings: Settings) -> list[Path] | None:
    """The files of ``settings.apps``, or None for ours when it is empty.

    Raises:
        ConfigError: naming PANEL_DASK_APPS and the entry that cannot be served.
    """
    if not settings.apps:
        return None
    try:
        return user_apps.resolve_all(settings.apps)
    except user_apps.AppNotFoundError as exc:
        raise ConfigError(f"PANEL_DASK_APPS: {exc}") from None


def build_env(settings: Settings, environ: dict[str, str]) -> dict[str, str]:
    """The server's environment: the cookie secret travels as BOKEH_COOKIE_SECRET.

    An environment variable rather than ``--cookie-secret`` keeps the secret
    out of the process list; Panel refuses to get it both ways.
    """
    env = dict(environ)
    # The thread count goes as --num-threads; Panel also reads PANEL_NUM_THREADS
    # (which the chart sets for Settings) and refuses to start when given both.
    env.pop("PANEL_NUM_THREADS", None)
    if settings.cookie_secret:
        env["BOKEH_COOKIE_SECRET"] = settings.cookie_secret
    return env


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: validate the settings, then exec `panel serve`.

    Arguments after the command name are passed on to `panel serve`.
    """
    try:
        settings = Settings.from_env()
        pages = served_pages(settings)
    except ConfigError as exc:
        sys.exit(f"panel-dask-serve: {exc}")
    command = build_command(settings, sys.argv[1:] if argv is None else argv, pages)
    os.execve(command[0], command, build_env(settings, dict(os.environ)))


if __name__ == "__main__":
    main()
