"""The operator survives the faults a cluster has every day, on the real control plane.

Killed between retiring workers and deleting their Deployments, it leaves no
worker half-retired and duplicates nothing once restarted; with the apiserver
unreachable for 30 s it backs off, logs, and carries on without a restart. The
faults are put between the operator and the real servers by loopback proxies
(see faults.py); everything else is as in test_operator_cluster.
"""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from distributed import Client, Event
from faults import SchedulerProxy
from operator_cluster import Stack, blocked_until, quiet_for, scaled

from panel_dask_testcluster.proxy import LoopbackProxy
from panel_dask_testkit.kube import service_account_kubeconfig
from panel_dask_testkit.waiting import wait_for

pytestmark = [pytest.mark.dask, pytest.mark.timeout(600)]

OUTAGE_SECONDS = 30


def restart_operator(stack: Stack, **settings: Any) -> None:
    """Stop the operator and start it again with other settings (metrics_url, kubeconfig)."""
    stack.operator.stop()
    for name, value in settings.items():
        setattr(stack.operator, name, value)
    stack.operator.start()


def test_killed_between_retiring_and_deleting_leaves_no_worker_half_retired(
    stack: Stack,
) -> None:
    proxy = SchedulerProxy(stack.dask.dashboard_url)
    direct = stack.operator.metrics_url
    restart_operator(stack, metrics_url=proxy.url)
    try:
        with Client(stack.dask.address) as client:
            wait_for(lambda: stack.converged(client, 1), "one worker to start from")
            futures = client.map(blocked_until("go-faults"), range(8), pure=False)
            wait_for(lambda: stack.converged(client, 4), "4 workers for 8 tasks")
            proxy.hold()
            Event("go-faults", client=client).set()
            assert client.gather(futures) == [i * 2 for i in range(8)]

            # After the delay the operator retires 3 idle workers; the scheduler does
            # so and answers, the proxy holds the answer, and the operator dies before
            # it can delete their Deployments.
            wait_for(proxy.retired.is_set, "the operator to retire workers")
            wait_for(lambda: len(stack.scheduler_workers(client)) == 1, "3 workers retired")
            stack.operator.kill()
            assert len(stack.worker_deployments()) == 4 and stack.replicas() == 4

            proxy.release()
            stack.operator.start()
            # The kubelet restarts the retired workers' containers (their Deployments
            # are still there); the restarted operator removes them for good.
            wait_for(lambda: stack.converged(client, 1), "1 worker, 1 Deployment, 1 replica")
            assert len(stack.get("deployments", "-l", "dask.org/component=scheduler")["items"]) == 1
            # nothing comes back over the next polls
            quiet_for(lambda: stack.converged(client, 1), "still 1 worker", 2)
    finally:
        restart_operator(stack, metrics_url=direct)
        proxy.close()


def retry_delays(log: str) -> list[float]:
    return [float(d) for d in re.findall(r"tick failed; retry in (\d+)s", log)]


def test_apiserver_unreachable_for_30s_backs_off_and_recovers_without_restart(
    stack: Stack, tmp_path: Any
) -> None:
    apiserver_port = int(stack.cp.server.rsplit(":", 1)[1])
    proxy = LoopbackProxy("127.0.0.1", apiserver_port)
    proxy.start()
    direct = stack.operator.kubeconfig
    through_proxy = service_account_kubeconfig(stack.cp, stack.namespace, tmp_path / "kubeconfig")
    through_proxy.write_text(through_proxy.read_text().replace(stack.cp.server, proxy.url))
    restart_operator(stack, kubeconfig=through_proxy)
    try:
        with Client(stack.dask.address) as client:
            wait_for(lambda: stack.converged(client, 1), "one worker to start from")
            pid = stack.operator.pid
            failures_before = len(retry_delays(stack.operator.log.read_text()))

            proxy.cut()
            futures = client.map(blocked_until("go-outage"), range(8), pure=False)
            deadline = time.monotonic() + OUTAGE_SECONDS
            while time.monotonic() < deadline:  # alive and answering its probe throughout
                assert stack.operator.alive(), stack.operator.tail()
                time.sleep(1)
            delays = retry_delays(stack.operator.log.read_text())[failures_before:]
            assert len(delays) >= 3, stack.operator.tail()
            assert delays == sorted(delays) and delays[-1] > delays[0], delays  # backing off
            assert max(delays) <= 30
            proxy.restore()

            # Without a restart: the backlog that built up meanwhile is served.
            wait_for(lambda: stack.converged(client, 4), "4 workers once the apiserver is back")
            assert stack.operator.pid == pid
            ups = [m for m in stack.events("ScaledUp").values() if scaled(m)[1] == 4]
            assert ups, "the scale-up was reported"
            Event("go-outage", client=client).set()
            assert client.gather(futures) == [i * 2 for i in range(8)]
            wait_for(lambda: stack.converged(client, 1), "back to 1")
    finally:
        restart_operator(stack, kubeconfig=direct)
        proxy.stop()
