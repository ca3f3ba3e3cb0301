"""The process-wide cap on unfinished tasks, and the task inputs it sits beside."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from panel_dask_app.budget import ProcessBudget
from panel_dask_app.config import ConfigError, Settings
from panel_dask_app.tasks import TASKS, TaskInputError, parse_argument


def test_budget_takes_all_or_nothing_and_says_what_is_left():
    budget = ProcessBudget(5)
    budget.take(3)
    with pytest.raises(TaskInputError, match="how many: this server runs at most 5 .* 3 are") as e:
        budget.take(3)
    assert "up to 2 more" in str(e.value)
    assert budget.used == 3
    budget.take(2)
    assert budget.room == 0
    budget.give_back(4)
    assert (budget.used, budget.room) == (1, 4)
    budget.give_back(9)
    assert budget.used == 0


def test_budget_limit_must_be_positive():
    with pytest.raises(ValueError, match="at least 1"):
        ProcessBudget(0)


def test_total_cap_setting_is_read_and_bounded():
    assert Settings.from_env({}).max_outstanding_total == 1000
    settings = Settings.from_env({"PANEL_DASK_MAX_OUTSTANDING_TOTAL": "250"})
    assert settings.max_outstanding_total == 250
    with pytest.raises(ConfigError, match="PANEL_DASK_MAX_OUTSTANDING_TOTAL: must be from 1"):
        Settings.from_env({"PANEL_DASK_MAX_OUTSTANDING_TOTAL": "0"})


@given(task=st.sampled_from(sorted(TASKS)), text=st.text(max_size=40))
def test_any_typed_text_is_a_bounded_argument_or_a_named_refusal(task, text):
    spec = TASKS[task]
    try:
        value = parse_argument(task, text)
    except TaskInputError as exc:
        assert exc.field == spec.field
        assert str(exc).startswith(f"{spec.field}: ")
        assert f"{spec.minimum:g} to {spec.maximum:g}" in str(exc)
    else:
        assert isinstance(value, spec.kind)
        assert math.isfinite(value)
        assert spec.minimum <= value <= spec.maximum


@given(
    task=st.sampled_from(sorted(TASKS)),
    number=st.one_of(
        st.integers(min_value=-(10**30), max_value=10**30),
        st.floats(allow_nan=True, allow_infinity=True),
    ),
)
def test_numbers_are_accepted_exactly_when_in_range(task, number):
    spec = TASKS[task]
    acceptable = (spec.kind is float or isinstance(number, int)) and (
        spec.minimum <= number <= spec.maximum  # False for NaN
    )
    if acceptable:
        assert parse_argument(task, str(number)) == number
    else:
        with pytest.raises(TaskInputError, match=f"^{spec.field}: "):
            parse_argument(task, str(number))
