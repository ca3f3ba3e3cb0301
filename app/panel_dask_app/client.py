"""One asynchronous Dask client per server process, shared by every session.

Sessions never create clients: a client per session would open a scheduler
connection per browser tab. The connection object owns a watchdog that
notices when the scheduler goes away, reports it through ``status`` for the UI,
and builds a fresh client once the scheduler is back, so the server never needs
a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import panel as pn
import param
from distributed import Client

from panel_dask_app.config import get_settings

log = logging.getLogger(__name__)

CONNECTED = "connected"
CONNECTING = "connecting"
RECONNECTING = "reconnecting"
DISCONNECTED = "disconnected"
CLOSED = "closed"


class DaskUnavailableError(RuntimeError):
    """The scheduler cannot be reached right now; the message says what to expect."""


class DaskConnection(param.Parameterized):
    """A lazily created, self-healing asynchronous client to one scheduler."""

    address = param.String(doc="Scheduler address, e.g. tcp://127.0.0.1:8786.")
    status: param.Selector[str] = param.Selector(
        default=CONNECTING,
        objects=[CONNECTING, CONNECTED, RECONNECTING, DISCONNECTED, CLOSED],
        doc="What the UI shows about the connection.",
    )
    message = param.String(default="", doc="Human-readable detail for the status.")
    connect_timeout = param.Number(
        default=5.0,
        bounds=(0.1, None),
        doc="Seconds per connection attempt; also how long the client itself retries.",
    )
    watch_interval = param.Number(default=0.5, bounds=(0.05, None), doc="Seconds between checks.")

    def __init__(self, **params: object) -> None:
        super().__init__(**params)
        self._client: Client | None = None
        self._watchdog: asyncio.Task[None] | None = None
        self._generation = 0

    @property
    def generation(self) -> int:
        """How many clients have been created; futures of older ones are gone."""
        return self._generation

    def start(self) -> None:
        """Start the watchdog on the running event loop (idempotent)."""
        if self._watchdog is None or self._watchdog.done():
            self._watchdog = asyncio.get_running_loop().create_task(self._watch())

    async def get_client(self, wait: float | None = None) -> Client:
        """Return the connected client, starting the connection on first use.

        Args:
            wait: seconds to wait for a connection; defaults to ``connect_timeout``.

        Raises:
            DaskUnavailableError: not connected within ``wait`` seconds.
        """
        self.start()
        deadline = asyncio.get_running_loop().time() + (
            self.connect_timeout if wait is None else wait
        )
        while True:
            client = self._client
            if client is not None and client.status == "running":
                return client
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0 or self.status == CLOSED:
                raise DaskUnavailableError(
                    self.message or f"Dask scheduler {self.address} is not reachable yet"
                )
            await asyncio.sleep(min(0.1, remaining))

    async def close(self) -> None:
        """Stop the watchdog and close the client (server shutdown, tests)."""
        self.status = CLOSED
        if self._watchdog is not None:
            self._watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watchdog
        if self._client is not None:
            await self._client.close()
            self._client = None

    async def _watch(self) -> None:
        backoff = self.watch_interval
        while self.status != CLOSED:
            client = self._client
            if client is None or client.status in ("closed", "closing", "failed"):
                if await self._connect():
                    backoff = self.watch_interval
                else:
                    # Back off up to a few seconds: a missing scheduler is often
                    # a restart in progress, and hammering it helps nobody.
                    backoff = min(backoff * 2, 5.0)
            elif client.status == "running":
                self._set(CONNECTED, f"Connected to {self.address}")
            else:
                self._set(
                    RECONNECTING,
                    f"Lost the Dask scheduler at {self.address}; reconnecting. "
                    "Tasks submitted before the loss must be submitted again.",
                )
            await asyncio.sleep(backoff)

    async def _connect(self) -> bool:
        previous, self._client = self._client, None
        if previous is not None:
            with contextlib.suppress(Exception):
                await previous.close()
        self._set(
            RECONNECTING if self._generation else CONNECTING,
            f"Connecting to the Dask scheduler at {self.address}…",
        )
        try:
            # timeout also bounds the client's own reconnection window; after it
            # the client closes and this watchdog builds a new one.
            client = await Client(
                self.address,
                asynchronous=True,
                timeout=self.connect_timeout,
                set_as_default=False,
            )
        except (TimeoutError, OSError) as exc:
            self._set(
                DISCONNECTED,
                f"Dask scheduler at {self.address} is unreachable ({type(exc).__name__}); "
                "retrying.",
            )
            log.warning("cannot reach Dask scheduler at %s: %s", self.address, exc)
            return False
        self._client = client
        self._generation += 1
        self._set(CONNECTED, f"Connected to {self.address}")
        return True

    def _set(self, status: str, message: str) -> None:
        if (self.status, self.message) != (status, message):
            self.param.update(status=status, message=message)


_CACHE_KEY = "panel_dask_app.connection"


def get_connection() -> DaskConnection:
    """Return this process's shared connection, created on first call.

    ``pn.state.as_cached`` keeps it for every session of the server and creates
    it under a lock, so two sessions opening at once still share one client.
    """
    return pn.state.as_cached(
        _CACHE_KEY, lambda: DaskConnection(address=get_settings().scheduler_address)
    )
