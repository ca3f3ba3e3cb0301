"""The /data page's dataset, generated and persisted on the workers once, shared by everyone.

The first query of any session on any Panel process generates the dataset on
the workers, persists it there and publishes it on the scheduler under its
name; every later query, from any session of any replica, gets the published
one. A Dask lock on the scheduler, named after the dataset, makes two replicas
starting together generate it once. Each process keeps the partitions'
futures of its current client, and looks again after a reconnection (a
restarted scheduler forgot the dataset: the next query generates it anew).
"""

from __future__ import annotations

import asyncio
import logging

import panel as pn
from distributed import Client, Future, Lock, futures_of

from panel_dask_app.client import DaskUnavailableError
from panel_dask_app.config import get_settings
from panel_dask_app.dataset import DatasetSpec, make_frame

log = logging.getLogger(__name__)

# Generating is quick (the workers only start it); this bounds waiting for
# another replica that holds the lock, e.g. one that died holding it, until the
# scheduler's lease timeout frees it.
LOCK_TIMEOUT_S = 60.0
_USABLE = frozenset({"pending", "finished"})


def partition_index(future: Future[object]) -> int:
    """The partition number in a persisted collection's key ``(name, index)``; -1 if none."""
    key = future.key
    if isinstance(key, tuple) and len(key) == 2 and isinstance(key[1], int):
        return key[1]
    return -1


def ordered_partitions(futures: list[Future[object]], expected: int) -> list[Future[object]]:
    """The futures of a persisted frame in partition order (their keys end in the index)."""
    ordered = sorted(futures, key=partition_index)
    if [partition_index(future) for future in ordered] != list(range(expected)):
        raise RuntimeError(
            f"the published dataset has partitions {[f.key for f in ordered]}, "
            f"expected {expected} numbered from 0"
        )
    return ordered


class SharedDataset:
    """This process's handle on the published dataset of ``spec``."""

    def __init__(self, spec: DatasetSpec) -> None:
        self.spec = spec
        self._client: Client | None = None
        self._partitions: list[Future[object]] = []
        self._lock: asyncio.Lock | None = None

    def _cached(self, client: Client) -> list[Future[object]] | None:
        if self._client is client and all(f.status in _USABLE for f in self._partitions):
            return self._partitions
        return None

    async def partitions(self, client: Client) -> list[Future[object]]:
        """The dataset's partitions on the cluster, generating and publishing it if needed.

        Raises:
            DaskUnavailableError: the scheduler did not answer, or another
                replica held the lock for ``LOCK_TIMEOUT_S``.
        """
        cached = self._cached(client)
        if cached is not None:
            return cached
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:  # one fetch per process, however many sessions ask at once
            cached = self._cached(client)
            if cached is not None:
                return cached
            futures = await self._fetch_or_publish(client)
            self._client, self._partitions = client, futures
            return futures

    async def _fetch_or_publish(self, client: Client) -> list[Future[object]]:
        name = self.spec.name
        lock = Lock(f"{name}-lock", scheduler_rpc=client.scheduler, loop=client.loop)
        try:
            acquired = await lock.acquire(timeout=LOCK_TIMEOUT_S)
        except OSError as exc:
            raise DaskUnavailableError(f"the scheduler did not answer ({exc!r})") from exc
        if not acquired:
            raise DaskUnavailableError(
                f"another server has been preparing the dataset {name} for "
                f"{LOCK_TIMEOUT_S:.0f} s; try again shortly"
            )
        try:
            try:
                frame = await client.get_dataset(name)
            except KeyError:
                log.info("generating the dataset %s on the workers", name)
                frame = client.persist(make_frame(self.spec))
                await client.publish_dataset(frame, name=name)
        finally:
            await lock.release()
        return ordered_partitions(futures_of(frame), self.spec.partitions)


_CACHE_KEY = "panel_dask_app.shared_dataset"


def get_shared_dataset() -> SharedDataset:
    """This process's handle on the dataset that ``PANEL_DASK_DATA_ROWS`` sizes."""
    return pn.state.as_cached(
        _CACHE_KEY, lambda: SharedDataset(DatasetSpec(get_settings().data_rows))
    )
