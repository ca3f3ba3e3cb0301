"""The one check for "an integer within bounds", wherever a value comes from.

Settings from the environment, task inputs (typed in the form or handed to a
worker) and the local stack's command line all accept an integer in a range and
say the same thing when it is not. Each caller wraps the message in its own
error with the name of what it checks (a variable, a field, a flag). Free of
Panel and Dask imports: the workers import it through the task functions.
"""

from __future__ import annotations

import numbers
import re

_INTEGER_TEXT = re.compile(r"[+-]?\d+")


def bounded_int(value: object, minimum: int, maximum: int) -> int:
    """Return ``value`` as an ``int`` if it is an integer from ``minimum`` to ``maximum``.

    Any integral number counts (NumPy's too); a bool does not, though Python
    treats it as one, and neither does text: that is :func:`parse_bounded_int`.

    Raises:
        ValueError: what was expected and what came, e.g.
            ``expected an integer from 1 to 64, got 'x'`` or ``must be from 1 to 64, got 99``.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"expected an integer from {minimum} to {maximum}, got {value!r}")
    number = int(value)
    if not minimum <= number <= maximum:
        raise ValueError(f"must be from {minimum} to {maximum}, got {number}")
    return number


def parse_bounded_int(text: str, minimum: int, maximum: int) -> int:
    """Like :func:`bounded_int`, for the text of an integer (signs and spaces allowed)."""
    cleaned = text.strip()
    if not _INTEGER_TEXT.fullmatch(cleaned):
        raise ValueError(f"expected an integer from {minimum} to {maximum}, got {text!r}")
    return bounded_int(int(cleaned), minimum, maximum)
