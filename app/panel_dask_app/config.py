"""Settings from the environment, parsed and validated once per process.

The names and defaults are the interface the Helm chart and the local stack
rely on; a bad value stops the server at start-up with a message naming the
variable and what it accepts, rather than failing later inside a session.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from panel_dask_app import user_apps
from panel_dask_app.bounds import parse_bounded_int
from panel_dask_app.ports import DASHBOARD_PORT, PANEL_PORT, SCHEDULER_PORT

DEFAULT_ORIGINS = (f"localhost:{PANEL_PORT}", f"127.0.0.1:{PANEL_PORT}")
_ORIGIN = re.compile(r"[A-Za-z0-9.\-\[\]:*]+")
_SCHEDULER_ADDRESS = re.compile(r"(tcp|tls|ws|wss)://[^\s/]+")
_TRUE_FALSE = {"true": True, "false": False}
# One day of rows at least (the page filters by day); a billion rows is ~35 GB
# of worker memory, beyond which a demo dataset is a mistake.
DATA_ROWS_MIN = 86_400
DATA_ROWS_MAX = 1_000_000_000


class ConfigError(ValueError):
    """An environment variable holds a value outside what it accepts."""


@dataclass(frozen=True)
class Settings:
    """Everything the server and the app read from the environment."""

    panel_address: str = "0.0.0.0"
    panel_port: int = PANEL_PORT
    allow_websocket_origin: tuple[str, ...] = DEFAULT_ORIGINS
    num_threads: int = 4
    use_xheaders: bool = False
    cookie_secret: str | None = None
    # A team's own pages instead of ours (panel_dask_app.user_apps); empty: ours.
    apps: tuple[str, ...] = ()
    max_outstanding: int = 100
    max_outstanding_total: int = 1000
    scheduler_address: str = f"tcp://127.0.0.1:{SCHEDULER_PORT}"
    dashboard_url: str = f"http://localhost:{DASHBOARD_PORT}"
    # The /data page's dataset, generated on the workers: one row per second.
    data_rows: int = 5_000_000
    # Where this process serves Prometheus metrics; 0: not at all. The chart sets
    # ports.METRICS_PORT; local servers leave it off so many can run side by side.
    metrics_port: int = 0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read and validate every setting; unset or empty variables take the default.

        Raises:
            ConfigError: naming the first invalid variable and its allowed values.
        """
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        defaults = cls()
        return cls(
            panel_address=get("PANEL_ADDRESS") or defaults.panel_address,
            panel_port=_integer("PANEL_PORT", get("PANEL_PORT"), defaults.panel_port, 1, 65535),
            allow_websocket_origin=_origins(get("PANEL_ALLOW_WEBSOCKET_ORIGIN")),
            num_threads=_integer(
                "PANEL_NUM_THREADS", get("PANEL_NUM_THREADS"), defaults.num_threads, 1, 64
            ),
            use_xheaders=_boolean("PANEL_USE_XHEADERS", get("PANEL_USE_XHEADERS"), False),
            cookie_secret=get("PANEL_COOKIE_SECRET"),
            apps=_apps(get("PANEL_DASK_APPS")),
            max_outstanding=_integer(
                "PANEL_DASK_MAX_OUTSTANDING",
                get("PANEL_DASK_MAX_OUTSTANDING"),
                defaults.max_outstanding,
                1,
                10_000,
            ),
            max_outstanding_total=_integer(
                "PANEL_DASK_MAX_OUTSTANDING_TOTAL",
                get("PANEL_DASK_MAX_OUTSTANDING_TOTAL"),
                defaults.max_outstanding_total,
                1,
                1_000_000,
            ),
            scheduler_address=_scheduler_address(get("DASK_SCHEDULER_ADDRESS"))
            or defaults.scheduler_address,
            dashboard_url=_dashboard_url(get("DASK_DASHBOARD_URL")) or defaults.dashboard_url,
            data_rows=_integer(
                "PANEL_DASK_DATA_ROWS",
                get("PANEL_DASK_DATA_ROWS"),
                defaults.data_rows,
                DATA_ROWS_MIN,
                DATA_ROWS_MAX,
            ),
            metrics_port=_integer(
                "PANEL_DASK_METRICS_PORT", get("PANEL_DASK_METRICS_PORT"), 0, 0, 65535
            ),
        )


def _integer(name: str, raw: str | None, default: int, minimum: int, maximum: int) -> int:
    if raw is None:
        return default
    try:
        return parse_bounded_int(raw, minimum, maximum)
    except ValueError as exc:
        raise ConfigError(f"{name}: {exc}") from None


def _boolean(name: str, raw: str | None, default: bool) -> bool:
    if raw is None:
        return default
    try:
        return _TRUE_FALSE[raw.lower()]
    except KeyError:
        raise ConfigError(f"{name}: expected 'true' or 'false', got {raw!r}") from None


def _origins(raw: str | None) -> tuple[str, ...]:
    if raw is None:
        return DEFAULT_ORIGINS
    origins = tuple(item.strip() for item in raw.split(",") if item.strip())
    for origin in origins:
        if not _ORIGIN.fullmatch(origin):
            raise ConfigError(
                "PANEL_ALLOW_WEBSOCKET_ORIGIN: expected comma-separated host[:port] entries "
                f"without scheme or path, got {origin!r}"
            )
    if not origins:
        raise ConfigError("PANEL_ALLOW_WEBSOCKET_ORIGIN: expected at least one host[:port]")
    return origins


def _apps(raw: str | None) -> tuple[str, ...]:
    if raw is None:
        return ()
    try:
        return user_apps.parse_entries(raw)
    except ValueError as exc:
        raise ConfigError(f"PANEL_DASK_APPS: {exc}") from None


def _scheduler_address(raw: str | None) -> str | None:
    if raw is not None and not _SCHEDULER_ADDRESS.fullmatch(raw):
        raise ConfigError(
            "DASK_SCHEDULER_ADDRESS: expected <tcp|tls|ws|wss>://host:port, "
            f"e.g. tcp://127.0.0.1:8786, got {raw!r}"
        )
    return raw


def _dashboard_url(raw: str | None) -> str | None:
    if raw is None:
        return None
    if not re.fullmatch(r"(https?://[^\s/]+(/\S*)?|/[^\s/]\S*)", raw):
        raise ConfigError(
            "DASK_DASHBOARD_URL: expected an http(s):// URL or a same-origin path "
            f"starting with '/', e.g. /dask, got {raw!r}"
        )
    # Plot paths are appended with their leading slash.
    return raw.rstrip("/")


@functools.cache
def get_settings() -> Settings:
    """Return this process's settings, read from the environment on first use."""
    return Settings.from_env()
