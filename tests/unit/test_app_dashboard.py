import pytest

from panel_dask_app.dashboard import DEFAULT_PLOTS, PLOTS, plot_url, status_url
from panel_dask_app.views.dashboard_view import DashboardState, DashboardView, iframe_html


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        ("http://localhost:8787", "http://localhost:8787/individual-task-stream"),
        ("http://localhost:8787/", "http://localhost:8787/individual-task-stream"),
        ("/dask", "/dask/individual-task-stream"),
    ],
)
def test_plot_url_joins_base_and_path(base, expected):
    assert plot_url(base, "Task stream") == expected


def test_unknown_plot_names_the_choices():
    with pytest.raises(
        ValueError, match="plot: unknown 'Nope'; choose one of Task stream, Progress"
    ):
        plot_url("/dask", "Nope")


def test_every_plot_is_an_individual_dashboard_document():
    assert all(path.startswith("/individual-") for path in PLOTS.values())
    assert set(DEFAULT_PLOTS) <= set(PLOTS)
    assert status_url("/dask/") == "/dask/status"


def test_state_lists_chosen_plots_in_catalogue_order():
    state = DashboardState(base_url="/dask", plots=["Progress", "Task stream"])
    assert state.urls() == [
        ("Task stream", "/dask/individual-task-stream"),
        ("Progress", "/dask/individual-progress"),
    ]


def test_state_rejects_plots_outside_the_catalogue():
    with pytest.raises(ValueError):
        DashboardState(plots=["Not a plot"])


def test_iframe_html_escapes_its_url():
    html = iframe_html("A & B", '/dask/x"onload="alert(1)', 300)
    assert 'src="/dask/x&quot;onload=&quot;alert(1)"' in html
    assert 'title="A &amp; B"' in html
    assert "height:300px" in html


def test_view_renders_one_iframe_per_chosen_plot():
    state = DashboardState(base_url="/dask", plots=["Progress", "CPU"])
    view = DashboardView(state=state)
    rendered = view._plots()
    html = "".join(card[0].object for card in rendered)
    assert html.count("<iframe") == 2
    assert "/dask/individual-cpu" in html
    state.plots = []
    assert "Choose at least one plot" in view._plots().object
