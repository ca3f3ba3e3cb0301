"""A team's own app on the kind cluster: README's "Deploy your own app", step by step.

The example (examples/custom-app) is built FROM the app image the release
runs, loaded into the kind node, and the release upgraded to it with
`panel.apps` naming its page, its DaskCluster deleted first (dask-kubernetes
never rolls the scheduler and workers of an existing one). Chromium opens
/sales through the ingress and runs a forecast per region: each row names the
pod that computed it, a worker pod of the example's image, which imported the
example's tasks module to run it. Afterwards the release is put back (its
values, and its Dask cluster on the app image). Test files run in name order,
so this runs before test_journey.py, which ends by uninstalling.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest
import test_journey as journey
import yaml
from kind_cluster import APP_URL, ROOT, KindCluster, Observed, fetch, host_of, ready
from playwright.sync_api import expect

from panel_dask_testcluster.pins import node_bin_dir
from panel_dask_testkit.browser import cell
from panel_dask_testkit.example_app import (
    EXAMPLE_DIR,
    PAGE_MODULE,
    PAGE_ROUTE,
    PAGE_TITLE,
)
from panel_dask_testkit.kube import CHART_DIR, run
from panel_dask_testkit.waiting import wait_for

pytestmark = [pytest.mark.kind, pytest.mark.timeout(1800, func_only=True)]

OWN_IMAGE = "acme/sales:e2e"
BUILD_TIMEOUT = 900  # s: pip builds the package (and fetches its build backend)


def app_image(kind: KindCluster) -> str:
    """The image the release's Panel pods run."""
    spec = kind.get("deployment", kind.panel_deployment)["spec"]["template"]["spec"]
    image: str = spec["containers"][0]["image"]
    return image


def build_own_image(base: str) -> None:
    """`docker build` the example FROM ``base``, with pip's network settings as `make images`."""
    cli = subprocess.run(
        ["bash", "hack/docker-cli.sh"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    pip_args = subprocess.run(
        ["bash", "images/pip-build-args.sh"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    result = subprocess.run(
        [cli, "build", "--progress=plain", "--build-arg", f"BASE_IMAGE={base}", *pip_args,
         "-t", OWN_IMAGE, str(EXAMPLE_DIR)],
        env={**os.environ, "DOCKER_BUILDKIT": "1"}, capture_output=True, text=True,
        timeout=BUILD_TIMEOUT,
    )  # fmt: skip
    assert result.returncode == 0, "\n".join((result.stdout + result.stderr).splitlines()[-40:])


def dask_pods_on(kind: KindCluster, image: str) -> Observed:
    """A Ready scheduler and Ready workers, all of ``image``, every worker connected."""
    scheduler, workers = kind.dask_pods("scheduler"), kind.dask_pods("worker")
    images = {
        p["metadata"]["name"]: p["spec"]["containers"][0]["image"] for p in scheduler + workers
    }
    settled = (
        len(scheduler) == 1
        and bool(workers)
        and all(ready(p) for p in scheduler + workers)
        and set(images.values()) == {image}
    )
    if not settled:  # the scheduler answers questions only once it is up
        return Observed(False, {"images": images})
    connected = {host_of(a) for a in kind.scheduler_workers()}
    worker_ips = {p["status"].get("podIP") for p in workers}
    return Observed(connected == worker_ips, {"workers": worker_ips, "connected": connected})


def upgrade_with_a_new_dask_cluster(kind: KindCluster, image: str, *helm_args: str) -> None:
    """Delete the DaskCluster, `helm upgrade` (which creates it again), wait for its pods."""
    run(kind.kubectl, "delete", "daskcluster", kind.dask_cluster, "-n", kind.namespace,
        "--cascade=foreground", "--timeout=300s")  # fmt: skip
    run(kind.helm, "upgrade", kind.release, str(CHART_DIR), "-n", kind.namespace, *helm_args,
        "--wait", "--timeout", "300s")  # fmt: skip
    wait_for(
        lambda: dask_pods_on(kind, image),
        f"the scheduler and connected workers on {image}",
        journey.POD_WAIT,
        2,
    )


@pytest.fixture
def own_app(kind: KindCluster) -> Iterator[None]:
    """The release on the example's image and page; the release's own values afterwards."""
    saved = json.loads(run(kind.helm, "get", "values", kind.release, "-n", kind.namespace,
                           "-o", "json"))  # fmt: skip
    base = app_image(kind)
    build_own_image(base)
    subprocess.run(
        [str(node_bin_dir() / "kind"), "load", "docker-image", "--name", kind.name, OWN_IMAGE],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    repository, tag = OWN_IMAGE.rsplit(":", 1)
    try:
        upgrade_with_a_new_dask_cluster(
            kind, OWN_IMAGE, "--reuse-values",
            "--set", f"image.repository={repository},image.tag={tag},panel.apps={{{PAGE_MODULE}}}",
        )  # fmt: skip
        yield
    finally:
        with tempfile.NamedTemporaryFile("w", suffix=".yaml") as values:
            yaml.safe_dump(saved, values)
            values.flush()
            upgrade_with_a_new_dask_cluster(kind, base, "--reset-values", "-f", values.name)
        wait_for(
            lambda: status_of(f"{APP_URL}/tasks") == 200,
            "our /tasks page again after restoring the release",
            300,
            2,
        )


def status_of(url: str) -> int | None:
    """The HTTP status of ``url``, or None while nothing answers (a rollout's gap)."""
    try:
        return fetch(url)[0]
    except OSError:
        return None


def forecast_rows(page: Any) -> Any:
    return page.locator(".forecast-table .tabulator-row")


def test_own_app_image_serves_its_page_and_its_tasks_run_on_worker_pods(
    kind: KindCluster, chromium: Any, own_app: None
) -> None:
    replicas = journey.release_values(kind)["panel"]["replicas"]
    wait_for(lambda: journey.panel_pods_ready(kind, replicas), "Ready Panel pods", 300, 2)
    assert {
        p["spec"]["containers"][0]["image"] for p in kind.deployment_pods(kind.panel_deployment)
    } == {OWN_IMAGE}
    # Our pages gave way to the team's.
    assert status_of(f"{APP_URL}/tasks") == 404

    user = journey.User(chromium)
    try:
        page = user.page
        page.goto(f"{APP_URL}{PAGE_ROUTE}")
        expect(page).to_have_title(PAGE_TITLE, timeout=journey.LONG)
        expect(page.locator(".dask-connection")).to_contain_text(
            "Dask: connected", timeout=journey.LONG
        )
        page.get_by_role("button", name="Forecast").click()
        rows = forecast_rows(page)
        try:
            expect(rows).to_have_count(4, timeout=journey.LONG)  # every region, by default
        except AssertionError as failure:  # say what the page and the cluster looked like
            error = page.locator(".forecast-error")
            shown = error.inner_text() if error.is_visible() else "(no error on the page)"
            raise AssertionError(
                f"{failure}\npage: {shown}\nscheduler's workers: {kind.scheduler_workers()}\n"
                + kind.text("get", "pods", "-o", "wide")
            ) from None
        hosts = {cell(rows.nth(i), "host").inner_text() for i in range(4)}
        expect(page.locator(".forecast-error")).to_be_hidden()
        user.check()
    finally:
        user.close()

    # Each forecast ran on a worker pod (its host name is the pod's name) of the example's image.
    workers = {p["metadata"]["name"]: p for p in kind.dask_pods("worker")}
    assert hosts <= set(workers), f"rows name {hosts}; worker pods are {sorted(workers)}"
    for host in hosts:
        assert workers[host]["spec"]["containers"][0]["image"] == OWN_IMAGE
