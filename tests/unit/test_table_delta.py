"""cell_patches: which cells of the task table changed, or that it must be sent whole."""

import math

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from panel_dask_app.table_delta import cell_patches


def frame(states, durations=None, keys=None):
    keys = keys or [f"k-{i}" for i in range(len(states))]
    durations = durations or [None] * len(states)
    return pd.DataFrame({"state": states, "duration (s)": durations}, index=keys)


def test_changed_cells_are_named_by_column_and_row():
    old = frame(["processing", "queued"], [None, None])
    new = frame(["finished", "queued"], [0.5, None])
    assert cell_patches(old, new) == {"state": [(0, "finished")], "duration (s)": [(0, 0.5)]}


def test_nothing_changed_is_an_empty_patch():
    old = frame(["finished", "queued"], [float("nan"), 1.5])
    assert cell_patches(old, frame(["finished", "queued"], [None, 1.5])) == {}


def test_rows_that_came_went_or_moved_send_the_table_whole():
    old = frame(["queued", "queued"])
    assert cell_patches(old, frame(["queued", "queued", "queued"])) is None
    assert cell_patches(old, frame(["queued"])) is None
    assert cell_patches(old, frame(["queued", "queued"], keys=["k-1", "k-0"])) is None
    assert cell_patches(None, old) is None


def test_a_value_of_another_type_is_a_change():
    assert cell_patches(frame(["1"]), frame([1])) == {"state": [(0, 1)]}


def missing(value):
    return value is None or (isinstance(value, float) and math.isnan(value))


values = st.one_of(st.none(), st.floats(allow_nan=True), st.sampled_from(["queued", "finished"]))


@given(st.lists(st.tuples(values, values), min_size=1, max_size=20))
def test_applying_the_patches_to_the_old_table_gives_the_new_one(pairs):
    old = frame([a for a, _ in pairs])
    new = frame([b for _, b in pairs])
    patched = old["state"].tolist()
    for row, value in (cell_patches(old, new) or {}).get("state", []):
        patched[row] = value
    for got, want in zip(patched, new["state"].tolist(), strict=True):
        assert missing(got) == missing(want)
        assert missing(got) or (type(got) is type(want) and got == want)
