"""The kind cluster for the user's journey: `make kind-up` before, `make kind-down` after.

The `kind` fixture runs hack/kind-up.sh once per session, its output streamed
to the terminal, and fails every e2e test with the output's tail if it fails.
At the end it runs hack/kind-down.sh, unless KEEP_KIND=1.

While developing: PANEL_DASK_E2E_REUSE=1 skips kind-up and only checks that
the release is installed on the existing cluster; KEEP_KIND=1 keeps it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator

import pytest
from kind_cluster import KEEP, REUSE, KindCluster, run_script

# A cold kind-up builds the node image, Traefik and the app images; warm runs
# take minutes. The scripts bound their own waits; this only stops a hang.
KIND_UP_TIMEOUT = float(os.environ.get("PANEL_DASK_KIND_UP_TIMEOUT", 90 * 60))
KIND_DOWN_TIMEOUT = 10 * 60


class KindSession:
    """The session's cluster and the scripts that make and remove it."""

    def __init__(self, cluster: KindCluster, write: Callable[[str], None]) -> None:
        self.cluster = cluster
        self.write = write
        self.removed = False

    def up(self) -> None:
        self._script("hack/kind-up.sh", KIND_UP_TIMEOUT)

    def down(self) -> None:
        self._script("hack/kind-down.sh", KIND_DOWN_TIMEOUT)
        self.removed = True

    def _script(self, script: str, timeout: float) -> None:
        self.write(f"[e2e] bash {script}")
        code, tail = run_script(script, self.write, timeout)
        if code != 0:
            pytest.fail(
                f"bash {script} exited with {code}; its last lines:\n" + "\n".join(tail),
                pytrace=False,
            )

    def require_release(self) -> None:
        status = self.cluster.helm(
            "status", self.cluster.release, "--namespace", self.cluster.namespace,
            capture_output=True, text=True,
        )  # fmt: skip
        if status.returncode != 0:
            pytest.fail(
                f"PANEL_DASK_E2E_REUSE=1, but release {self.cluster.release} is not installed "
                f"on {self.cluster.context} ({status.stderr.strip()}); run `make kind-up`",
                pytrace=False,
            )


def _terminal(config: pytest.Config) -> Callable[[str], None]:
    """Write a line to the terminal while a fixture runs, so a long kind-up shows its progress.

    Output capture is suspended around each line: with fd capture on, even the
    terminal reporter's writes would land in the captured file until the test ends.
    """
    capture = config.pluginmanager.get_plugin("capturemanager")
    reporter = config.pluginmanager.get_plugin("terminalreporter")

    def write(line: str) -> None:
        suspended = capture.global_and_fixture_disabled() if capture else contextlib.nullcontext()
        with suspended:
            if reporter is not None:
                reporter.write_line(line)
            else:
                print(line, flush=True)

    return write


@pytest.fixture(scope="session")
def kind_session(request: pytest.FixtureRequest) -> Iterator[KindSession]:
    """The kind cluster with the release installed; removed at the end unless KEEP_KIND=1."""
    session = KindSession(KindCluster.from_env(), _terminal(request.config))
    try:
        if REUSE:
            session.require_release()
        else:
            session.up()
    except BaseException:
        # A half-made cluster goes too; the kind-up failure is what gets reported.
        if not KEEP:
            with contextlib.suppress(pytest.fail.Exception):
                session.down()
        raise
    yield session
    if not KEEP and not session.removed:
        session.down()


@pytest.fixture(scope="session")
def kind(kind_session: KindSession) -> KindCluster:
    """The cluster the journey runs on."""
    return kind_session.cluster
