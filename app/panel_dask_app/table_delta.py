"""What changed between two renderings of the task table, so the browser gets only that.

A result changes a few cells of one row, but replacing the table's value
re-sends every row to the browser, for every result of every session. The view
applies cell changes with Tabulator's ``patch`` and replaces the value only
when rows came or went (appending with ``stream`` costs Panel more than a
replacement: it concatenates and re-processes the whole frame).
"""

from __future__ import annotations

import math

import pandas as pd

Patches = dict[str, list[tuple[int, object]]]


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _same(before: object, after: object) -> bool:
    # pandas shows a missing number as None in an object column, NaN in a float one.
    if _missing(before) or _missing(after):
        return _missing(before) and _missing(after)
    return type(before) is type(after) and before == after


def cell_patches(old: pd.DataFrame | None, new: pd.DataFrame) -> Patches | None:
    """The cells that differ, by column and row position; None when rows or columns differ.

    Rows are identified by the index (the task keys), so a table whose rows
    came, went or moved cannot be patched and is sent whole. An empty result
    means nothing changed.
    """
    if old is None or list(old.columns) != list(new.columns) or not old.index.equals(new.index):
        return None
    patches: Patches = {}
    for column in new.columns:
        before, after = old[column].tolist(), new[column].tolist()
        pairs = enumerate(zip(before, after, strict=True))
        changed = [(row, b) for row, (a, b) in pairs if not _same(a, b)]
        if changed:
            patches[column] = changed
    return patches
