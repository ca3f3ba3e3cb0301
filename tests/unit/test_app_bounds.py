"""The one bounded-integer check, and its callers wording refusals alike."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from panel_dask_app.bounds import bounded_int, parse_bounded_int
from panel_dask_app.config import ConfigError, Settings
from panel_dask_app.tasks import TaskInputError, fibonacci, parse_argument


@given(st.integers(-1000, 1000))
def test_an_integer_passes_exactly_when_within_bounds(value: int) -> None:
    if -10 <= value <= 10:
        assert bounded_int(value, -10, 10) == value
        assert parse_bounded_int(f" {value} ", -10, 10) == value
    else:
        with pytest.raises(ValueError, match=rf"^must be from -10 to 10, got {value}$"):
            bounded_int(value, -10, 10)


def test_numpy_integers_count_and_come_back_as_int() -> None:
    value = bounded_int(np.int64(7), 0, 9)
    assert value == 7 and type(value) is int


@pytest.mark.parametrize("value", [True, 3.0, "3", None])
def test_bools_floats_and_text_are_not_integers(value: object) -> None:
    with pytest.raises(ValueError, match=r"^expected an integer from 0 to 9, got "):
        bounded_int(value, 0, 9)


@pytest.mark.parametrize("text", ["", "x", "3.0", "1_000", "0x10", "3 4"])
def test_text_must_be_a_plain_integer(text: str) -> None:
    with pytest.raises(ValueError, match=rf"^expected an integer from 0 to 9, got {text!r}$"):
        parse_bounded_int(text, 0, 9)


def test_settings_tasks_and_the_form_word_a_refusal_the_same() -> None:
    with pytest.raises(ConfigError, match=r"^PANEL_NUM_THREADS: must be from 1 to 64, got 99$"):
        Settings.from_env({"PANEL_NUM_THREADS": "99"})
    with pytest.raises(TaskInputError, match=r"^n: must be from 0 to 35, got 99$"):
        fibonacci(99)
    with pytest.raises(TaskInputError, match=r"^n: must be from 0 to 35, got 99$"):
        parse_argument("fibonacci", "99")
    with pytest.raises(ConfigError, match=r"^PANEL_PORT: expected an integer from 1 to 65535"):
        Settings.from_env({"PANEL_PORT": "1_000"})
