import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from panel_dask_app.tasks import (
    FIBONACCI_MAX_N,
    MATRIX_MAX_SIZE,
    SLEEP_MAX_SECONDS,
    TASKS,
    TaskInputError,
    fibonacci,
    get_spec,
    matrix_norm,
    parse_argument,
    sleep_seconds,
)


def fibonacci_reference(n: int) -> int:
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


@pytest.mark.parametrize("n", [0, 1, 2, 10, 20, 25])
def test_fibonacci_matches_iterative_reference(n):
    assert fibonacci(n) == fibonacci_reference(n)


def test_fibonacci_20_is_6765():
    assert fibonacci(20) == 6765


@pytest.mark.parametrize("bad", [-1, FIBONACCI_MAX_N + 1, 10**9])
def test_fibonacci_rejects_out_of_range_naming_field_and_range(bad):
    with pytest.raises(
        TaskInputError, match=rf"^n: must be from 0 to {FIBONACCI_MAX_N}, got {bad}$"
    ):
        fibonacci(bad)


@pytest.mark.parametrize("bad", [True, 2.0, "20", None])
def test_fibonacci_rejects_non_integers(bad):
    with pytest.raises(TaskInputError, match="n: expected an integer from 0 to"):
        fibonacci(bad)


def test_matrix_norm_is_reproducible_and_correct():
    matrix = np.random.default_rng(seed=50).random((50, 50))
    expected = float(np.linalg.norm(matrix @ matrix))
    assert matrix_norm(50) == pytest.approx(expected)
    assert matrix_norm(50) == matrix_norm(50)


@pytest.mark.parametrize("bad", [0, MATRIX_MAX_SIZE + 1])
def test_matrix_norm_bounds(bad):
    with pytest.raises(TaskInputError, match=rf"size: must be from 1 to {MATRIX_MAX_SIZE}"):
        matrix_norm(bad)


def test_sleep_returns_the_seconds_asked():
    assert sleep_seconds(0) == 0.0
    assert sleep_seconds(0.01) == 0.01


@pytest.mark.parametrize("bad", [-0.5, SLEEP_MAX_SECONDS + 1, math.nan, math.inf])
def test_sleep_bounds(bad):
    with pytest.raises(TaskInputError, match="seconds: must be from 0 to 60"):
        sleep_seconds(bad)


@pytest.mark.parametrize(
    ("task", "text", "expected"),
    [
        ("fibonacci", "20", 20),
        ("fibonacci", " 7 ", 7),
        ("fibonacci", "+3", 3),
        ("matrix_norm", "500", 500),
        ("sleep_seconds", "0.25", 0.25),
        ("sleep_seconds", "2", 2.0),
    ],
)
def test_parse_argument_accepts_valid_text(task, text, expected):
    value = parse_argument(task, text)
    assert value == expected
    assert type(value) is TASKS[task].kind


@pytest.mark.parametrize(
    ("task", "text", "message"),
    [
        ("fibonacci", "-1", "n: must be from 0 to 35, got -1"),
        ("fibonacci", "1000000000", "n: must be from 0 to 35, got 1000000000"),
        ("fibonacci", "abc", "n: expected an integer from 0 to 35, got 'abc'"),
        ("fibonacci", "20.5", "n: expected an integer from 0 to 35, got '20.5'"),
        ("fibonacci", "", "n: expected an integer from 0 to 35, got ''"),
        ("matrix_norm", "1e3", "size: expected an integer from 1 to 3000, got '1e3'"),
        ("sleep_seconds", "soon", "seconds: expected a number from 0 to 60, got 'soon'"),
        ("sleep_seconds", "nan", "seconds: must be from 0 to 60, got nan"),
        ("sleep_seconds", "61", "seconds: must be from 0 to 60, got 61.0"),
    ],
)
def test_parse_argument_rejects_with_field_and_range(task, text, message):
    with pytest.raises(TaskInputError) as caught:
        parse_argument(task, text)
    assert str(caught.value) == message
    assert caught.value.field == message.split(":")[0]


def test_unknown_task_lists_the_known_ones():
    with pytest.raises(TaskInputError, match="task: unknown task 'nope'; choose one of fibonacci"):
        get_spec("nope")


@given(st.integers(min_value=0, max_value=FIBONACCI_MAX_N))
def test_every_in_range_integer_parses_back(n):
    assert parse_argument("fibonacci", str(n)) == n


@given(st.integers().filter(lambda n: not 0 <= n <= FIBONACCI_MAX_N))
def test_every_out_of_range_integer_is_rejected(n):
    with pytest.raises(TaskInputError, match="^n: must be from 0 to 35"):
        parse_argument("fibonacci", str(n))


def test_specs_defaults_are_valid_and_hints_show_ranges():
    for spec in TASKS.values():
        parse_argument(spec.name, spec.default)
    assert get_spec("fibonacci").hint == "n (integer, 0 to 35)"
    assert get_spec("sleep_seconds").hint == "seconds (number, 0 to 60)"
