"""Many sessions at once: open them, run closed-loop users for a time window, watch the client.

A closed loop (act, wait for the answer, think, act again) is how people use a
page; it also bounds the load an overloaded server gets, so every run ends in
its window plus one answer's time.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from bench.bokeh_client import BrowserlessSession

OPEN_CONCURRENCY = 6  # page builds at once: what a burst of users arriving does
OPEN_TIMEOUT_S = 120.0


async def open_sessions(
    base_url: str, path: str, count: int, concurrency: int = OPEN_CONCURRENCY
) -> list[BrowserlessSession]:
    """Open ``count`` sessions of one page, ``concurrency`` at a time."""
    gate = asyncio.Semaphore(concurrency)

    async def one() -> BrowserlessSession:
        async with gate:
            return await BrowserlessSession(base_url, path).open(within=OPEN_TIMEOUT_S)

    return list(await asyncio.gather(*(one() for _ in range(count))))


async def close_all(sessions: Sequence[BrowserlessSession]) -> None:
    """Close every session's websocket."""
    await asyncio.gather(*(session.close() for session in sessions), return_exceptions=True)


@dataclass
class LoopResult:
    """Samples of every actor in one window, and how many actions got no answer."""

    samples: list[float] = field(default_factory=list)
    censored: int = 0
    failures: list[str] = field(default_factory=list)


Action = Callable[[], Awaitable[tuple[float, bool]]]  # -> (seconds, censored)


async def closed_loop(
    actions: Sequence[Action],
    window: float,
    think: tuple[float, float],
    seed: int = 7,
) -> LoopResult:
    """Run each action in its own loop until ``window`` seconds have passed.

    Starts are spread over the first think time so users do not click in
    lockstep. An action that raises is recorded as a failure and ends its loop;
    a censored one (no answer by its deadline) is kept as a lower bound and ends
    its loop too.
    """
    result = LoopResult()
    rng = random.Random(seed)
    end = time.monotonic() + window

    async def user(action: Action, first_wait: float) -> None:
        await asyncio.sleep(first_wait)
        while time.monotonic() < end:
            try:
                seconds, censored = await action()
            except Exception as error:  # a broken session is a finding, not a crash
                result.failures.append(f"{type(error).__name__}: {error}")
                return
            result.samples.append(seconds)
            if censored:  # no answer in time: a lower bound, and this user is stuck
                result.censored += 1
                return
            await asyncio.sleep(rng.uniform(*think))

    await asyncio.gather(*(user(a, rng.uniform(0, think[1])) for a in actions))
    return result


class LoopLag:
    """How late this process's event loop wakes up: the client's own share of a latency."""

    def __init__(self, interval: float = 0.01) -> None:
        self.interval = interval
        self.lags: list[float] = []

    @contextlib.asynccontextmanager
    async def watching(self) -> AsyncIterator[LoopLag]:
        """Sample the lag while the block runs."""

        async def sample() -> None:
            while True:
                before = time.perf_counter()
                await asyncio.sleep(self.interval)
                self.lags.append(max(0.0, time.perf_counter() - before - self.interval))

        task = asyncio.get_running_loop().create_task(sample())
        try:
            yield self
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
