import socket

import pytest

from panel_dask_dev.local_stack import StackOptions, banner, busy_ports, panel_env, parse_args


def test_defaults_are_the_documented_local_ports():
    options = parse_args([])
    assert options == StackOptions()
    assert options.scheduler_address == "tcp://127.0.0.1:8786"
    assert options.dashboard_url == "http://localhost:8787"
    assert options.panel_url == "http://localhost:5006"


def test_options_are_validated(capsys):
    options = parse_args(["--panel-port", "15006", "--workers", "3", "--no-autoscaler"])
    assert (options.panel_port, options.workers, options.autoscaler) == (15006, 3, False)
    with pytest.raises(SystemExit):
        parse_args(["--panel-port", "70000"])
    assert "--panel-port: must be from 1 to 65535, got 70000" in capsys.readouterr().err


def test_panel_env_points_the_app_at_the_local_cluster():
    env = panel_env(StackOptions(panel_port=15006, scheduler_port=18786), {"HOME": "/home/u"})
    assert env["HOME"] == "/home/u"
    assert env["PANEL_ADDRESS"] == "127.0.0.1"
    assert env["PANEL_PORT"] == "15006"
    assert env["PANEL_ALLOW_WEBSOCKET_ORIGIN"] == "localhost:15006,127.0.0.1:15006"
    assert env["PANEL_USE_XHEADERS"] == "false"
    assert env["DASK_SCHEDULER_ADDRESS"] == "tcp://127.0.0.1:18786"
    assert env["DASK_DASHBOARD_URL"] == "http://localhost:8787"


def test_busy_ports_finds_a_listener():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert busy_ports(StackOptions(panel_port=port, scheduler_port=0, dashboard_port=0)) == [
            port
        ]


def test_banner_says_where_everything_is():
    text = banner(StackOptions(), "off (--no-autoscaler)")
    for expected in [
        "http://localhost:5006",
        "tcp://127.0.0.1:8786",
        "http://localhost:8787/status",
        "2 processes × 2 threads",
        "Ctrl-C",
    ]:
        assert expected in text


def test_own_apps_reach_the_panel_server_and_the_banner(capsys):
    options = parse_args(["--apps", "acme_sales.pages.sales, /srv/reports/summary.ipynb"])
    assert options.apps == ("acme_sales.pages.sales", "/srv/reports/summary.ipynb")
    env = panel_env(options, {})
    assert env["PANEL_DASK_APPS"] == "acme_sales.pages.sales,/srv/reports/summary.ipynb"
    assert "(pages /sales, /summary; /health)" in banner(options, "off")
    # Without --apps the server serves ours, and the banner says which.
    assert "PANEL_DASK_APPS" not in panel_env(parse_args([]), {})
    assert "(pages /tasks, /data, /dashboard; /health)" in banner(parse_args([]), "off")
    with pytest.raises(SystemExit):
        parse_args(["--apps", "acme-sales"])
    assert "--apps: expected comma-separated entries" in capsys.readouterr().err
