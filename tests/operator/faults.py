"""A loopback HTTP proxy that puts a fault between the operator and the real scheduler.

:class:`SchedulerProxy` forwards to the scheduler and, when asked, holds the
answer to a retirement after the scheduler has acted on it, so the operator can
be killed between retiring workers and deleting their Deployments. (An
unreachable apiserver is panel_dask_testcluster.proxy.LoopbackProxy's cut.)
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any

import aiohttp
from aiohttp import web

from panel_dask_testkit.net import free_port


class _LoopThread:
    """An asyncio loop in a daemon thread, for servers the synchronous tests drive."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True, name=name)
        self.thread.start()

    def call(self, coro: Coroutine[Any, Any, Any], timeout: float = 30) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


class SchedulerProxy(_LoopThread):
    """Forwards HTTP to the scheduler; after :meth:`hold`, keeps retirement answers back."""

    def __init__(self, target_base_url: str) -> None:
        super().__init__("scheduler-proxy")
        self.target = target_base_url.rstrip("/")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/dask"
        self.retired = threading.Event()
        self._released = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.call(self._start())
        self.release()

    def hold(self) -> None:
        """From now on, answer a retirement only after :meth:`release` (or never)."""
        self.retired.clear()
        self.loop.call_soon_threadsafe(self._released.clear)

    def release(self) -> None:
        """Answer held and future retirements at once."""
        self.loop.call_soon_threadsafe(self._released.set)

    async def _start(self) -> None:
        self._session = aiohttp.ClientSession()
        app = web.Application()
        app.router.add_route("*", "/dask/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        assert self._session is not None
        url = self.target + request.path_qs.removeprefix("/dask")
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() == "content-type"}
        async with self._session.request(request.method, url, data=body, headers=headers) as up:
            payload, status = await up.read(), up.status
            content_type = up.headers.get("Content-Type", "application/octet-stream")
        if request.path.endswith("/api/v1/retire_workers"):
            self.retired.set()
            await self._released.wait()  # the scheduler has retired them; the operator waits
        return web.Response(body=payload, status=status, headers={"Content-Type": content_type})

    async def _stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    def close(self) -> None:
        self.release()
        self.call(self._stop())
        super().close()
