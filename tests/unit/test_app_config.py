import pytest

from panel_dask_app.config import DEFAULT_ORIGINS, ConfigError, Settings


def test_defaults_follow_the_contract():
    settings = Settings.from_env({})
    assert settings.panel_address == "0.0.0.0"
    assert settings.panel_port == 5006
    assert (
        settings.allow_websocket_origin == DEFAULT_ORIGINS == ("localhost:5006", "127.0.0.1:5006")
    )
    assert settings.num_threads == 4
    assert settings.use_xheaders is False
    assert settings.cookie_secret is None
    assert settings.max_outstanding == 100
    assert settings.scheduler_address == "tcp://127.0.0.1:8786"
    assert settings.dashboard_url == "http://localhost:8787"
    assert settings.data_rows == 5_000_000
    assert settings.metrics_port == 0  # off: local servers run side by side


def test_every_variable_is_read():
    settings = Settings.from_env(
        {
            "PANEL_ADDRESS": "127.0.0.1",
            "PANEL_PORT": "8080",
            "PANEL_ALLOW_WEBSOCKET_ORIGIN": "app.example.org, localhost:8080 ,",
            "PANEL_NUM_THREADS": "8",
            "PANEL_USE_XHEADERS": "TRUE",
            "PANEL_COOKIE_SECRET": "s3cret",
            "PANEL_DASK_MAX_OUTSTANDING": "7",
            "DASK_SCHEDULER_ADDRESS": "tcp://demo-scheduler:8786",
            "DASK_DASHBOARD_URL": "/dask/",
            "PANEL_DASK_DATA_ROWS": "86400",
            "PANEL_DASK_METRICS_PORT": "8000",
        }
    )
    assert settings == Settings(
        panel_address="127.0.0.1",
        panel_port=8080,
        allow_websocket_origin=("app.example.org", "localhost:8080"),
        num_threads=8,
        use_xheaders=True,
        cookie_secret="s3cret",
        max_outstanding=7,
        scheduler_address="tcp://demo-scheduler:8786",
        dashboard_url="/dask",
        data_rows=86_400,
        metrics_port=8000,
    )


def test_empty_values_mean_default():
    assert Settings.from_env({"PANEL_PORT": "", "DASK_DASHBOARD_URL": "  "}) == Settings()


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("PANEL_PORT", "http", "PANEL_PORT: expected an integer from 1 to 65535, got 'http'"),
        ("PANEL_PORT", "0", "PANEL_PORT: must be from 1 to 65535, got 0"),
        ("PANEL_NUM_THREADS", "100", "PANEL_NUM_THREADS: must be from 1 to 64, got 100"),
        ("PANEL_USE_XHEADERS", "yes", "PANEL_USE_XHEADERS: expected 'true' or 'false', got 'yes'"),
        (
            "PANEL_DASK_MAX_OUTSTANDING",
            "-5",
            "PANEL_DASK_MAX_OUTSTANDING: must be from 1 to 10000, got -5",
        ),
        (
            "PANEL_ALLOW_WEBSOCKET_ORIGIN",
            "https://app.example.org",
            "PANEL_ALLOW_WEBSOCKET_ORIGIN: expected comma-separated host[:port] entries",
        ),
        (
            "PANEL_ALLOW_WEBSOCKET_ORIGIN",
            ",",
            "PANEL_ALLOW_WEBSOCKET_ORIGIN: expected at least one",
        ),
        (
            "PANEL_DASK_DATA_ROWS",
            "1e6",
            "PANEL_DASK_DATA_ROWS: expected an integer from 86400 to 1000000000, got '1e6'",
        ),
        (
            "PANEL_DASK_DATA_ROWS",
            "1000",
            "PANEL_DASK_DATA_ROWS: must be from 86400 to 1000000000, got 1000",
        ),
        (
            "PANEL_DASK_METRICS_PORT",
            "70000",
            "PANEL_DASK_METRICS_PORT: must be from 0 to 65535, got 70000",
        ),
        ("DASK_SCHEDULER_ADDRESS", "scheduler:8786", "DASK_SCHEDULER_ADDRESS: expected <tcp|tls"),
        ("DASK_DASHBOARD_URL", "dask", "DASK_DASHBOARD_URL: expected an http(s):// URL"),
        ("DASK_DASHBOARD_URL", "/", "DASK_DASHBOARD_URL: expected an http(s):// URL"),
    ],
)
def test_invalid_values_name_the_variable_and_allowed_values(name, value, message):
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({name: value})
    assert str(caught.value).startswith(message)


def test_dashboard_url_loses_trailing_slash():
    assert (
        Settings.from_env({"DASK_DASHBOARD_URL": "http://h:8787/"}).dashboard_url == "http://h:8787"
    )
