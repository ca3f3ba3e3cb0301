import pytest

from panel_dask_app.state import (
    CANCELLED,
    DONE_STATES,
    ERROR,
    FINISHED,
    PROCESSING,
    QUEUED,
    TABLE_COLUMNS,
    SessionTasks,
    SubmissionPlan,
    TableChange,
    display_state,
    table_change,
)
from panel_dask_app.tasks import TaskInputError


def keys(n, prefix="k"):
    return [f"{prefix}-{i}" for i in range(n)]


def test_new_session_is_empty_with_fibonacci_default():
    tasks = SessionTasks()
    assert tasks.task == "fibonacci"
    assert tasks.argument == "20"
    assert list(tasks.table.columns) == TABLE_COLUMNS
    assert (tasks.total, tasks.done, tasks.outstanding) == (0, 0, 0)
    assert tasks.progress_text == "No tasks yet."


def test_choosing_a_task_resets_input_and_hint():
    tasks = SessionTasks(argument="33")
    tasks.task = "sleep_seconds"
    assert tasks.argument == "1"
    assert tasks.argument_hint == "seconds (number, 0 to 60)"


def test_plan_validates_the_form():
    tasks = SessionTasks(argument="20", batch_size=5)
    assert tasks.plan() == SubmissionPlan("fibonacci", 20, 5)
    for text in ["-1", "1000000000", "twenty"]:
        tasks.argument = text
        with pytest.raises(TaskInputError, match="^n: .*0 to 35"):
            tasks.plan()


def test_batch_size_is_bounded_by_param():
    tasks = SessionTasks()
    with pytest.raises(ValueError):
        tasks.batch_size = 0
    with pytest.raises(ValueError):
        tasks.batch_size = 51


def test_outstanding_cap_counts_unfinished_tasks_only():
    tasks = SessionTasks(max_outstanding=5, batch_size=3)
    records = tasks.new_records(tasks.plan(), keys(3))
    with pytest.raises(
        TaskInputError, match="how many: at most 5 unfinished .* 3 are unfinished, so up to 2"
    ):
        tasks.plan()
    tasks.batch_size = 2
    assert tasks.plan().count == 2
    records[0].state = FINISHED
    tasks.refresh()
    tasks.batch_size = 3
    assert tasks.plan().count == 3


def test_records_are_numbered_and_shown_in_the_table():
    tasks = SessionTasks()
    first = tasks.new_records(SubmissionPlan("fibonacci", 20, 2), keys(2, "a"))
    second = tasks.new_records(SubmissionPlan("sleep_seconds", 0.5, 1), ["b-0"])
    assert [r.number for r in [*first, *second]] == [1, 2, 3]
    assert list(tasks.table.index) == ["a-0", "a-1", "b-0"]
    assert list(tasks.table["input"]) == [20, 20, 0.5]
    assert tasks.key_at(2) == "b-0"
    assert tasks.key_at(3) is None
    assert tasks.find("a-1") is first[1]


def test_refresh_counts_and_table_follow_record_states():
    tasks = SessionTasks()
    records = tasks.new_records(SubmissionPlan("fibonacci", 20, 4), keys(4))
    records[0].param.update(
        state=FINISHED, result="6765", worker="tcp://10.0.0.5:40000", duration=0.01234
    )
    records[1].param.update(state=ERROR, result="ValueError: boom")
    records[2].state = PROCESSING
    tasks.refresh()
    assert (tasks.total, tasks.done, tasks.outstanding) == (4, 2, 2)
    row = tasks.table.loc["k-0"]
    assert row["worker"] == "10.0.0.5:40000"
    assert row["duration (s)"] == 0.012
    assert row["result or error"] == "6765"
    assert tasks.progress_text == "2 of 4 done, 1 processing, 1 failed"


def test_clear_done_keeps_unfinished():
    tasks = SessionTasks()
    records = tasks.new_records(SubmissionPlan("fibonacci", 20, 3), keys(3))
    records[0].state = FINISHED
    records[1].state = CANCELLED
    assert tasks.clear_done() == 2
    assert [r.key for r in tasks.records] == ["k-2"]
    assert tasks.total == 1


@pytest.mark.parametrize(
    ("scheduler", "shown"),
    [
        ("queued", QUEUED),
        ("no-worker", QUEUED),
        ("processing", PROCESSING),
        ("waiting", "waiting"),
        ("memory", None),
        ("erred", None),
        (None, None),
    ],
)
def test_scheduler_states_map_to_table_states(scheduler, shown):
    assert display_state(scheduler) == shown


def test_done_states_are_terminal():
    assert {FINISHED, ERROR, CANCELLED, "lost"} == DONE_STATES


def test_notify_sets_message_and_kind():
    tasks = SessionTasks()
    tasks.notify("Nothing submitted.", "danger")
    assert (tasks.message, tasks.message_kind) == ("Nothing submitted.", "danger")
    with pytest.raises(ValueError):
        tasks.notify("x", "loud")


def progress(state, worker="", retries=0):
    return {"state": state, "worker": worker, "retries": retries}


def test_observe_shows_state_worker_and_retries_of_unfinished_tasks():
    tasks = SessionTasks()
    records = tasks.new_records(SubmissionPlan("fibonacci", 30, 3), keys(3))
    retried = tasks.observe(
        {
            "k-0": progress("processing", "tcp://127.0.0.1:4001"),
            "k-1": progress("no-worker", retries=1),
            "gone": progress("processing", retries=5),
        }
    )
    assert retried == [records[1]]
    assert (records[0].state, records[0].worker) == (PROCESSING, "tcp://127.0.0.1:4001")
    assert (records[1].state, records[1].retries) == (QUEUED, 1)
    assert list(tasks.table["retries"]) == [0, 1, 0]
    assert (
        tasks.progress_text
        == "0 of 3 done, 1 processing, 1 queued, 1 re-run after a worker was lost"
    )
    # The same count again is no news.
    assert tasks.observe({"k-1": progress("processing", "tcp://127.0.0.1:4002", 1)}) == []
    assert records[1].worker == "tcp://127.0.0.1:4002"


def test_observe_keeps_a_finished_state_but_records_its_retry():
    tasks = SessionTasks()
    [record] = tasks.new_records(SubmissionPlan("fibonacci", 30, 1), keys(1))
    record.param.update(state=FINISHED, result="832040", worker="tcp://127.0.0.1:4002")
    assert tasks.observe({"k-0": progress("memory", retries=1)}) == [record]
    assert (record.state, record.retries, record.worker) == (
        FINISHED,
        1,
        "tcp://127.0.0.1:4002",
    )
    assert tasks.table.loc["k-0", "retries"] == 1


def row(number, state="submitted", result=""):
    return {column: None for column in TABLE_COLUMNS} | {
        "#": number,
        "state": state,
        "result or error": result,
    }


def test_table_change_names_only_the_cells_and_rows_that_changed():
    shown = [row(1), row(2)]
    assert table_change(["a", "b"], shown, ["a", "b"], [row(1), row(2)]) is None
    finished = [row(1), row(2, "finished", "6765")]
    assert table_change(["a", "b"], shown, ["a", "b"], finished) == TableChange(
        patches={"state": [(1, "finished")], "result or error": [(1, "6765")]}
    )
    grown = [row(1, "error"), row(2), row(3)]
    assert table_change(["a", "b"], shown, ["a", "b", "c"], grown) == TableChange(
        patches={"state": [(0, "error")]}, appended=[row(3)]
    )


@pytest.mark.parametrize("keys_after", [["b"], ["b", "a"], ["a", "c"]])
def test_table_change_replaces_when_rows_go_or_move(keys_after):
    shown = [row(1), row(2)]
    rows_after = [row(n) for n in range(1, len(keys_after) + 1)]
    assert table_change(["a", "b"], shown, keys_after, rows_after) == TableChange(replace=True)


def test_refresh_publishes_the_change_and_reads_only_changed_records():
    tasks = SessionTasks()
    first, second = tasks.new_records(SubmissionPlan("fibonacci", 20, 2), keys(2))
    assert tasks.table_change == TableChange(appended=[first.row(), second.row()])
    second.param.update(state=FINISHED, result="6765")
    tasks.refresh()
    assert tasks.table_change == TableChange(
        patches={"state": [(1, FINISHED)], "result or error": [(1, "6765")]}
    )
    published = tasks.table_change
    tasks.refresh()  # nothing changed: nothing new to send
    assert tasks.table_change is published
