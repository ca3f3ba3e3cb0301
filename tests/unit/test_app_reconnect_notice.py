"""The reload-on-lost-connection hook and the notice of the session that follows."""

from bokeh.document import Document

from panel_dask_app.views.reconnect import (
    RECONNECTED_ARG,
    TASKS_LOST,
    install_reconnect,
    reconnect_notice_text,
)


def test_an_ordinary_visit_has_no_notice():
    assert reconnect_notice_text({}) is None
    assert reconnect_notice_text({"other": [b"1"]}) is None


def test_a_reconnect_says_the_old_session_is_gone_and_what_to_do():
    text = reconnect_notice_text({RECONNECTED_ARG: [b"1"]}, TASKS_LOST)
    assert text.startswith("**Reconnected to a new session.**")
    assert "server that ran your previous session stopped" in text
    assert text.endswith("submit them again.")


def test_the_page_reloads_on_connection_lost_and_forgets_the_marker_when_ready():
    doc = Document()
    install_reconnect(doc)
    callbacks = doc.callbacks._js_event_callbacks
    [lost] = callbacks["connection_lost"]
    assert "window.location.replace" in lost.code
    assert f'searchParams.set("{RECONNECTED_ARG}", "1")' in lost.code
    assert 'new URL("health", target)' in lost.code
    [ready] = callbacks["document_ready"]
    assert "history.replaceState" in ready.code
