"""Task functions the Dask workers run, and the bounds their inputs must respect.

Workers import this module by name (``panel_dask_app.tasks``), so it stays free
of Panel and Dask imports: the same code runs in the app, on workers, in tests.
Every task checks its own input too, because a worker may be handed arguments
by any client of the cluster, not only by this app's validated form.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from panel_dask_app.bounds import bounded_int, parse_bounded_int

FIBONACCI_MAX_N = 35
MATRIX_MAX_SIZE = 3000
SLEEP_MAX_SECONDS = 60.0


class TaskInputError(ValueError):
    """An input outside a task's allowed values; the message names the field and range."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


def _check_int(field: str, value: object, minimum: int, maximum: int) -> int:
    try:
        return bounded_int(value, minimum, maximum)
    except ValueError as exc:
        raise TaskInputError(field, str(exc)) from None


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

    function: Callable[..., object]
    label: str
    field: str
    kind: type[int] | type[float]
    minimum: float
    maximum: float
    default: str

    @property
    def name(self) -> str:
        """The task's name: its function's, which the workers import by it."""
        return self.function.__name__

    @property
    def hint(self) -> str:
        """Describe the input and its range, e.g. ``n (integer, 0 to 35)``."""
        kind = "integer" if self.kind is int else "number"
        return f"{self.field} ({kind}, {self.minimum:g} to {self.maximum:g})"


# One row per task: function, label, input field, its kind, bounds and default.
TASKS: dict[str, TaskSpec] = {
    spec.name: spec
    for spec in (
        TaskSpec(fibonacci, "Fibonacci (CPU-bound)", "n", int, 0, FIBONACCI_MAX_N, "20"),
        TaskSpec(matrix_norm, "Matrix norm (NumPy)", "size", int, 1, MATRIX_MAX_SIZE, "500"),
        TaskSpec(sleep_seconds, "Sleep (I/O-like)", "seconds", float, 0, SLEEP_MAX_SECONDS, "1"),
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
        try:
            return parse_bounded_int(text, int(spec.minimum), int(spec.maximum))
        except ValueError as exc:
            raise TaskInputError(spec.field, str(exc)) from None
    try:
        number = float(cleaned)
    except ValueError:
        raise TaskInputError(
            spec.field,
            f"expected a number from {spec.minimum:g} to {spec.maximum:g}, got {text!r}",
        ) from None
    return _check_float(spec.field, number, spec.minimum, spec.maximum)
