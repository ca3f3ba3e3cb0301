"""The one process wrapper: a child in its own process group, its output in a log file.

Tests, benchmarks, the control plane and ``make dev`` start every long-running
process through :class:`ManagedProcess`, so each one can be waited for while
noticing that it died, stopped with what it spawned (a nanny's workers, nginx's
workers), and explained by the tail of its log when something fails.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, TypeVar

from panel_dask_testkit.waiting import wait_for

T = TypeVar("T")


class ProcessExitedError(RuntimeError):
    """The process ended while something waited for it; the message quotes its log."""


class ManagedProcess:
    """``argv`` started in a new session, logging to ``log_dir/<name>.log``.

    With ``log_dir`` None the output goes to this process's terminal (``make dev``).
    A log is appended to, so a restarted process keeps one history.
    """

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        log_dir: Path | None,
        env: Mapping[str, str] | None = None,
        *,
        cwd: Path | None = None,
    ) -> None:
        self.name = name
        self.log_path = None if log_dir is None else log_dir / f"{name}.log"
        self._log: IO[bytes] | None = None
        if self.log_path is not None:
            self._log = self.log_path.open("ab")
            self._log.write(f"===== {name}: {' '.join(argv)}\n".encode())
            self._log.flush()
        # A session of its own: stop() reaches what it spawns, and a terminal's
        # Ctrl-C reaches only the parent, which stops its children in order.
        self.process = subprocess.Popen(
            list(argv),
            stdout=self._log,
            stderr=subprocess.STDOUT if self._log else None,
            stdin=subprocess.DEVNULL,
            env=None if env is None else dict(env),
            cwd=cwd,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        """The process id (also its process group's id)."""
        return self.process.pid

    def running(self) -> bool:
        """Whether the process has not exited."""
        return self.process.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        """The end of the log, for failure messages."""
        if self.log_path is None or not self.log_path.exists():
            return "(no log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def wait_until(
        self, check: Callable[[], T], what: str, timeout: float = 120.0, interval: float = 0.2
    ) -> T:
        """``wait_for(check, ...)`` that stops early, with the log's tail, if the process ends."""
        exited = object()

        def checked() -> T | object:
            return check() if self.running() else exited

        try:
            value = wait_for(checked, what, timeout, interval)
        except TimeoutError as exc:
            raise TimeoutError(self._explained(str(exc))) from None
        if value is exited:
            code = self.process.returncode
            raise ProcessExitedError(self._explained(f"{self.name} exited ({code}) before {what}"))
        return value  # type: ignore[return-value]

    def _explained(self, message: str) -> str:
        if self.log_path is None:
            return message  # the output went to the terminal, right above
        return f"{message}; {self.name}'s log ends:\n{self.log_tail()}"

    def signal(self, signum: int) -> None:
        """Send ``signum`` to the whole process group."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signum)

    def kill(self, timeout: float = 30.0) -> None:
        """SIGKILL the group, a crash: whatever it was doing stays half done."""
        self.signal(signal.SIGKILL)
        self.process.wait(timeout)
        self._close_log()

    def stop(self, grace: float = 15.0) -> None:
        """SIGTERM the process group, SIGKILL what is left after ``grace`` seconds."""
        if self.running():
            self.signal(signal.SIGTERM)
            try:
                self.process.wait(grace)
            except subprocess.TimeoutExpired:
                self.signal(signal.SIGKILL)
                self.process.wait(grace)
        # Stray children of a leader that is gone still hold the group id.
        self.signal(signal.SIGKILL)
        self._close_log()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
