"""Task functions the Dask workers run, and the bounds their inputs must respect.

Workers import this module by name (``panel_dask_app.tasks``), so it stays free
of Panel and Dask imports: the same code runs in the app, on workers, in tests.
Every task checks its own input too, because a worker may be handed arguments
by any client of the cluster, not only by this app's validated form.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

FIBONACCI_MAX_N = 35
MATRIX_MAX_SIZE = 3000
SLEEP_MAX_SECONDS = 60.0

_INTEGER_TEXT = re.compile(r"[+-]?\d+")


class TaskInputError(ValueError):
    """An input outside a task's allowed values; the message names the field and range."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


def _check_int(field: str, value: object, minimum: int, maximum: int) -> int:
    # bool is an int subclass; True would silently mean 1.
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TaskInputError(
            field, f"expected an integer from {minimum} to {maximum}, got {value!r}"
        )
    if not minimum <= value <= maximum:
        raise TaskInputError(field, f"must be from {minimum} to {maximum}, got {value}")
    return int(value)


def _check_float(field: str, value: object, minimum: float, maximum: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating):
        raise TaskInputError(
            field, f"expected a number from {minimum:g} to {maximum:g}, got {value!r}"
        )
    number = float(value)
    if not math.isfinite(number) or not minimum <= number <= maximum:
        raise TaskInputError(field, f"must be from {minimum:g} to {maximum:g}, got {value}")
    return number


def fibonacci(n: int) -> int:
    """Return the n-th Fibonacci number by naive recursion.

    Deliberately exponential: it holds the GIL for the whole run, which is the
    CPU-bound case that needs a separate worker process rather than a thread.
    """
    n = _check_int("n", n, 0, FIBONACCI_MAX_N)

    def fib(k: int) -> int:
        return k if k < 2 else fib(k - 1) + fib(k - 2)

    return fib(n)


def matrix_norm(size: int) -> float:
    """Return the Frobenius norm of A @ A for a seeded random ``size`` x ``size`` matrix.

    The product runs in BLAS, which releases the GIL, so several of these share
    one worker's threads efficiently. Seeded so the result is reproducible.
    """
    size = _check_int("size", size, 1, MATRIX_MAX_SIZE)
    matrix = np.random.default_rng(seed=size).random((size, size))
    return float(np.linalg.norm(matrix @ matrix))


def sleep_seconds(seconds: float) -> float:
    """Sleep, then return how long was asked: stands in for I/O-bound work."""
    seconds = _check_float("seconds", seconds, 0.0, SLEEP_MAX_SECONDS)
    time.sleep(seconds)
    return seconds


@dataclass(frozen=True)
class TaskSpec:
    """What the form needs to know about one task: its input, bounds and default."""

    name: str
    label: str
    function: Callable[..., object]
    field: str
    kind: type[int] | type[float]
    minimum: float
    maximum: float
    default: str

    @property
    def hint(self) -> str:
        """Describe the input and its range, e.g. ``n (integer, 0 to 35)``."""
        kind = "integer" if self.kind is int else "number"
        return f"{self.field} ({kind}, {self.minimum:g} to {self.maximum:g})"


TASKS: dict[str, TaskSpec] = {
    spec.name: spec
    for spec in (
        TaskSpec(
            name="fibonacci",
            label="Fibonacci (CPU-bound)",
            function=fibonacci,
            field="n",
            kind=int,
            minimum=0,
            maximum=FIBONACCI_MAX_N,
            default="20",
        ),
        TaskSpec(
            name="matrix_norm",
            label="Matrix norm (NumPy)",
            function=matrix_norm,
            field="size",
            kind=int,
            minimum=1,
            maximum=MATRIX_MAX_SIZE,
            default="500",
        ),
        TaskSpec(
            name="sleep_seconds",
            label="Sleep (I/O-like)",
            function=sleep_seconds,
            field="seconds",
            kind=float,
            minimum=0,
            maximum=SLEEP_MAX_SECONDS,
            default="1",
        ),
    )
}


def get_spec(task_name: str) -> TaskSpec:
    """Look a task up by name, failing with the list of known tasks."""
    try:
        return TASKS[task_name]
    except KeyError:
        raise TaskInputError(
            "task", f"unknown task {task_name!r}; choose one of {', '.join(TASKS)}"
        ) from None


def parse_argument(task_name: str, text: str) -> int | float:
    """Turn the text typed in the form into the task's validated argument.

    Raises:
        TaskInputError: the text is not a number of the right kind or is out of range.
    """
    spec = get_spec(task_name)
    cleaned = text.strip()
    if spec.kind is int:
        if not _INTEGER_TEXT.fullmatch(cleaned):
            raise TaskInputError(
                spec.field,
                f"expected an integer from {spec.minimum:g} to {spec.maximum:g}, got {text!r}",
            )
        return _check_int(spec.field, int(cleaned), int(spec.minimum), int(spec.maximum))
    try:
        number = float(cleaned)
    except ValueError:
        raise TaskInputError(
            spec.field,
            f"expected a number from {spec.minimum:g} to {spec.maximum:g}, got {text!r}",
        ) from None
    return _check_float(spec.field, number, spec.minimum, spec.maximum)
