"""A team's own pages: PANEL_DASK_APPS is spelled right, names files that exist, or is refused."""

import sys

import pytest

from panel_dask_app import serve, user_apps
from panel_dask_app.config import ConfigError, Settings


def pages(command):
    """The files a ``panel serve`` command serves: its .py arguments but the setup script."""
    return [arg for arg in command if arg.endswith(".py") and arg != str(serve.SETUP_SCRIPT)]


@pytest.mark.parametrize(
    "entry",
    [
        "/app/pages/sales.py",
        "pages/report.ipynb",
        "notes.md",
        "/srv/directory-app",
        "acme_sales.pages.sales",
        "sales",
        "_private.Mod2",
    ],
)
def test_paths_and_module_names_are_entries(entry):
    assert user_apps.is_entry(entry)


@pytest.mark.parametrize(
    "entry",
    ["", "acme sales", "acme-sales.pages", "1pages.sales", "acme_sales..pages", "a.py,b.py", "x."],
)
def test_other_spellings_are_not(entry):
    assert not user_apps.is_entry(entry)


def test_settings_read_the_entries_and_default_to_ours():
    assert Settings.from_env({}).apps == ()
    settings = Settings.from_env({"PANEL_DASK_APPS": " acme_sales.pages.sales , /app/x.py,"})
    assert settings.apps == ("acme_sales.pages.sales", "/app/x.py")


def test_settings_refuse_a_misspelled_entry_naming_the_variable_and_what_it_accepts():
    with pytest.raises(ConfigError) as refused:
        Settings.from_env({"PANEL_DASK_APPS": "acme_sales.pages.sales,acme-sales"})
    message = str(refused.value)
    assert message.startswith("PANEL_DASK_APPS: expected comma-separated entries")
    assert "importable module name" in message and "'acme-sales'" in message


def test_a_path_resolves_to_itself(tmp_path):
    page = tmp_path / "sales.py"
    page.write_text("")
    assert user_apps.resolve(str(page)) == page
    assert user_apps.resolve(str(tmp_path)) == tmp_path  # a directory app


def test_a_module_resolves_to_its_source_file():
    assert user_apps.resolve("panel_dask_app.pages.tasks") == serve.PAGES_DIR / "tasks.py"


@pytest.mark.parametrize(
    ("entry", "says"),
    [
        ("/nowhere/sales.py", "no such file or directory"),
        ("acme_nowhere.pages.sales", "cannot be imported"),
        ("panel_dask_app.pages.nowhere", "no module of that name on the Python path"),
        ("panel_dask_app.pages", "is a package"),
    ],
)
def test_an_entry_that_cannot_be_served_is_named(entry, says):
    with pytest.raises(user_apps.AppNotFoundError) as refused:
        user_apps.resolve(entry)
    assert repr(entry) in str(refused.value)
    assert says in str(refused.value)


def test_a_file_that_is_no_page_is_refused(tmp_path):
    data = tmp_path / "data" / "sales.csv"
    data.parent.mkdir()
    data.write_text("")
    with pytest.raises(user_apps.AppNotFoundError, match="not a page"):
        user_apps.resolve(str(data))


def test_two_pages_with_one_route_are_refused(tmp_path):
    page = tmp_path / "tasks.py"
    page.write_text("")
    with pytest.raises(user_apps.AppNotFoundError, match="both be served at /tasks"):
        user_apps.resolve_all([str(page), "panel_dask_app.pages.tasks"])


def test_empty_apps_serve_our_pages():
    assert serve.served_pages(Settings()) is None
    command = serve.build_command(Settings(), pages=serve.served_pages(Settings()))
    assert pages(command) == [str(path) for path in serve.page_paths()]


def test_own_pages_replace_ours_and_keep_the_contract_flags(tmp_path):
    page = tmp_path / "sales.py"
    page.write_text("")
    settings = Settings(apps=(str(page), "panel_dask_app.pages.dashboard"))
    command = serve.build_command(settings, pages=serve.served_pages(settings))
    assert pages(command) == [
        str(page),
        str(serve.PAGES_DIR / "dashboard.py"),
    ]
    assert "--liveness" in command
    assert command[command.index("--plugins") + 1] == "panel_dask_app.refused"


def test_main_refuses_an_entry_it_cannot_serve_before_starting_panel(monkeypatch):
    monkeypatch.setenv("PANEL_DASK_APPS", "acme_nowhere.pages.sales")
    execs = []
    monkeypatch.setattr(serve.os, "execve", lambda *args: execs.append(args))
    with pytest.raises(SystemExit) as refused:
        serve.main([])
    assert str(refused.value).startswith(
        "panel-dask-serve: PANEL_DASK_APPS: 'acme_nowhere.pages.sales': cannot be imported"
    )
    assert execs == []


def test_main_serves_the_named_module(monkeypatch):
    monkeypatch.setenv("PANEL_DASK_APPS", "panel_dask_app.pages.data")
    execs = []
    monkeypatch.setattr(serve.os, "execve", lambda *args: execs.append(args))
    serve.main([])
    [(path, argv, _)] = execs
    assert path == sys.executable
    assert pages(argv) == [str(serve.PAGES_DIR / "data.py")]


@pytest.mark.parametrize(
    ("entry", "route"),
    [
        ("acme_sales.pages.sales", "/sales"),
        ("sales", "/sales"),
        ("/app/pages/report.ipynb", "/report"),
        ("/srv/directory-app", "/directory-app"),
    ],
)
def test_a_page_is_served_at_its_file_or_module_name(entry, route):
    assert user_apps.route(entry) == route
