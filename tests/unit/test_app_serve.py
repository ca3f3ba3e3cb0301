import os
import subprocess
import sys

import pytest

from panel_dask_app import serve
from panel_dask_app.config import Settings
from panel_dask_testkit.net import free_port


def flag_values(command, flag):
    return [command[i + 1] for i, item in enumerate(command) if item == flag]


def test_command_serves_every_page_with_contract_flags():
    command = serve.build_command(Settings())
    assert command[:4] == [sys.executable, "-m", "panel", "serve"]
    pages = [arg for arg in command if arg.endswith(".py") and arg != str(serve.SETUP_SCRIPT)]
    assert [p.rsplit("/", 1)[1] for p in pages] == ["tasks.py", "data.py", "dashboard.py"]
    assert all(path.exists() for path in serve.page_paths())
    assert flag_values(command, "--num-procs") == ["1"]
    assert flag_values(command, "--num-threads") == ["4"]
    assert flag_values(command, "--address") == ["0.0.0.0"]
    assert flag_values(command, "--port") == ["5006"]
    assert "--liveness" in command
    assert flag_values(command, "--liveness-endpoint") == ["health"]
    # process-wide busy state: one user's click would spin every session's indicator
    assert "--global-loading-spinner" not in command
    assert flag_values(command, "--allow-websocket-origin") == ["localhost:5006", "127.0.0.1:5006"]
    assert "--use-xheaders" not in command
    assert "--cookie-secret" not in command
    # The handler that refuses the scheduler API path the chart's Ingress sends here.
    assert flag_values(command, "--plugins") == ["panel_dask_app.refused"]


def test_command_follows_settings_and_appends_extra_args():
    settings = Settings(
        panel_address="127.0.0.1",
        panel_port=9000,
        allow_websocket_origin=("app.example.org",),
        num_threads=2,
        use_xheaders=True,
        cookie_secret="s3cret",
    )
    command = serve.build_command(settings, ["--check-unused-sessions", "500"])
    assert flag_values(command, "--port") == ["9000"]
    assert flag_values(command, "--num-threads") == ["2"]
    assert flag_values(command, "--allow-websocket-origin") == ["app.example.org"]
    assert "--use-xheaders" in command
    assert "s3cret" not in command
    assert command[-2:] == ["--check-unused-sessions", "500"]


def test_cookie_secret_travels_in_the_environment():
    env = serve.build_env(Settings(cookie_secret="s3cret"), {"PATH": "/bin"})
    assert env == {"PATH": "/bin", "BOKEH_COOKIE_SECRET": "s3cret"}
    assert "BOKEH_COOKIE_SECRET" not in serve.build_env(Settings(), {})


def test_thread_count_reaches_panel_once():
    # Panel refuses to start when PANEL_NUM_THREADS and --num-threads are both given.
    env = serve.build_env(Settings(num_threads=4), {"PANEL_NUM_THREADS": "4", "PATH": "/bin"})
    assert env == {"PATH": "/bin"}


def test_main_refuses_bad_settings_with_the_variable_named(monkeypatch):
    monkeypatch.setenv("PANEL_PORT", "not-a-port")
    execs = []
    monkeypatch.setattr(serve.os, "execve", lambda *args: execs.append(args))
    with pytest.raises(SystemExit, match="panel-dask-serve: PANEL_PORT: expected an integer"):
        serve.main([])
    assert execs == []


def test_main_execs_panel_with_the_built_command(monkeypatch):
    monkeypatch.setenv("PANEL_PORT", "7001")
    monkeypatch.setenv("PANEL_COOKIE_SECRET", "abc")
    execs = []
    monkeypatch.setattr(serve.os, "execve", lambda *args: execs.append(args))
    serve.main(["--warm"])
    [(path, argv, env)] = execs
    assert path == sys.executable
    assert flag_values(argv, "--port") == ["7001"]
    assert argv[-1] == "--warm"
    assert env["BOKEH_COOKIE_SECRET"] == "abc"


def test_index_titles_are_keyed_by_route():
    command = serve.build_command(Settings())
    start = command.index("--index-titles") + 1
    assert command[start : start + 3] == [
        "/tasks=Run tasks on Dask",
        "/data=Explore a Dask DataFrame",
        "/dashboard=Dask dashboard",
    ]


def test_index_thumbnails_exist_for_every_page():
    command = serve.build_command(Settings())
    assert flag_values(command, "--static-dirs") == [f"thumbnails={serve.THUMBNAILS_DIR}"]
    assert flag_values(command, "--index") == [str(serve.INDEX_TEMPLATE)]
    assert serve.INDEX_TEMPLATE.exists()
    for page in serve.PAGES:
        assert (serve.THUMBNAILS_DIR / f"{page}.png").stat().st_size > 1000


def test_the_setup_script_runs_in_every_server():
    for settings in (Settings(), Settings(metrics_port=8000)):
        command = serve.build_command(settings)
        assert flag_values(command, "--setup") == [str(serve.SETUP_SCRIPT)]
    assert serve.SETUP_SCRIPT.exists()


def test_the_setup_script_freezes_what_is_imported_and_serves_metrics_only_when_asked():
    probe = (
        "import gc, runpy, sys\n"
        f"runpy.run_path({str(serve.SETUP_SCRIPT)!r})\n"
        "from panel_dask_app import gc_policy, telemetry\n"
        "print(gc.get_freeze_count() > 10000, gc.get_threshold()[0] == gc_policy.YOUNG_THRESHOLD,"
        " 'panel_dask_app.views.layout' in sys.modules)\n"
    )
    for port, serving in ((0, False), (free_port(), True)):
        env = {**os.environ, "PANEL_DASK_METRICS_PORT": str(port)}
        code = probe + (
            f"print(http_status('http://127.0.0.1:{port}/metrics') == 200)" if port else ""
        )
        shown = subprocess.run(
            [sys.executable, "-c", "from panel_dask_testkit.net import http_status\n" + code],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        ).stdout.split()
        assert shown[:3] == ["True", "True", "True"]
        assert shown[3:] == (["True"] if serving else [])
