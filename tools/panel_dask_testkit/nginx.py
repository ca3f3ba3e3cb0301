"""Debian's nginx on loopback before several Panel servers, set up like the chart's Ingress.

What the ingress-nginx annotations of charts/panel-dask/templates/ingress/
panel-ingress.yaml ask for, in plain nginx (open-source nginx has no sticky
module, ingress-nginx does it in Lua):

- cookie affinity: a browser without the affinity cookie gets one (Path=/,
  SameSite=Lax); its value is the consistent-hash key, so the page and its
  websocket reach the same replica. When that replica is gone nginx skips it
  and the same key lands on one live replica, as ingress-nginx picks a new
  endpoint for a cookie whose pod went away.
- websocket upgrade with the chart's read/send timeout;
- X-Forwarded-* headers (Panel runs with --use-xheaders behind the Ingress).

Additions for tests only: an ``X-Upstream`` response header naming the
replica that answered, and an access log line per request naming it too
(``upstream.log``: websocket upgrades carry no response header a browser
test can read). ``affinity=False`` is a plain round-robin balancer with no
cookie, what a controller without a sticky setting does; ``websocket_backends``
then sends websocket upgrades to other replicas than pages, the case round
robin produces whenever the page and its websocket fall on different turns.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from panel_dask_testkit.net import HOST, free_port, http_status
from panel_dask_testkit.processes import ManagedProcess

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
AFFINITY_COOKIE = "panel-dask-affinity"  # the chart's ingress.affinityCookieName default
WEBSOCKET_TIMEOUT_SECONDS = 3600  # the chart's ingress.websocketTimeoutSeconds default


def render_config(
    state_dir: Path,
    listen_port: int,
    backends: Sequence[str],
    *,
    cookie: str = AFFINITY_COOKIE,
    websocket_timeout: int = WEBSOCKET_TIMEOUT_SECONDS,
    affinity: bool = True,
    websocket_backends: Sequence[str] = (),
) -> str:
    """The whole nginx.conf: state under ``state_dir``, ``backends`` as host:port."""
    servers = "\n".join(f"    server {b} max_fails=1 fail_timeout=30s;" for b in backends)
    # A root master hands requests to workers as `nobody` unless told otherwise;
    # the temp paths below belong to whoever runs the test.
    user = "user root root;" if os.geteuid() == 0 else ""
    balance = "hash $affinity_key consistent;" if affinity else "# round robin, no affinity"
    set_cookie = "add_header Set-Cookie $affinity_set_cookie always;" if affinity else ""
    ws_servers = "\n".join(
        f"    server {b} max_fails=1 fail_timeout=30s;" for b in websocket_backends
    )
    # Without websocket_backends, pages and websockets share one upstream (and its hashing).
    ws_pool = "panel_websocket" if websocket_backends else "panel"
    return f"""
{user}
daemon off;
master_process on;
worker_processes 1;
pid {state_dir}/nginx.pid;
error_log {state_dir}/error.log info;
events {{ worker_connections 1024; }}
http {{
  access_log {state_dir}/access.log;
  log_format upstream '$request_uri $status $upstream_addr';
  access_log {state_dir}/upstream.log upstream;
  client_body_temp_path {state_dir}/client_body;
  proxy_temp_path {state_dir}/proxy;
  fastcgi_temp_path {state_dir}/fastcgi;
  uwsgi_temp_path {state_dir}/uwsgi;
  scgi_temp_path {state_dir}/scgi;

  map $http_upgrade $connection_upgrade {{
    default upgrade;
    ""      close;
  }}
  map $http_cookie $affinity_cookie {{
    "~(?:^|;\\s*){cookie}=(?<affinity_value>[^;]+)" $affinity_value;
    default "";
  }}
  map $affinity_cookie $affinity_key {{
    ""      $request_id;
    default $affinity_cookie;
  }}
  map $affinity_cookie $affinity_set_cookie {{
    ""      "{cookie}=$request_id; Path=/; SameSite=Lax; HttpOnly";
    default "";
  }}

  map $http_upgrade $pool {{
    ""      panel;
    default {ws_pool};
  }}

  upstream panel_websocket {{
    {balance}
{ws_servers or servers}
  }}

  upstream panel {{
    {balance}
{servers}
  }}

  server {{
    listen {HOST}:{listen_port};
    location / {{
      proxy_pass http://$pool;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $http_host;
      proxy_set_header X-Real-IP $remote_addr;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Host $http_host;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_connect_timeout 5s;
      proxy_read_timeout {websocket_timeout}s;
      proxy_send_timeout {websocket_timeout}s;
      proxy_next_upstream error timeout;
      {set_cookie}
      add_header X-Upstream $upstream_addr always;
    }}
  }}
}}
"""


class NginxBalancer:
    """nginx as a foreground process with its own config, logs and temp folders."""

    def __init__(
        self,
        state_dir: Path,
        backends: Sequence[str],
        port: int | None = None,
        *,
        affinity: bool = True,
        websocket_backends: Sequence[str] = (),
    ) -> None:
        state_dir.mkdir(parents=True, exist_ok=True)
        self.state_dir = state_dir
        self.port = port or free_port()
        self.config = state_dir / "nginx.conf"
        self.config.write_text(
            render_config(
                state_dir,
                self.port,
                backends,
                affinity=affinity,
                websocket_backends=websocket_backends,
            )
        )
        self.process: ManagedProcess | None = None

    @property
    def url(self) -> str:
        """The balancer's base URL."""
        return f"http://{HOST}:{self.port}"

    def upstreams(self) -> list[tuple[str, str, str]]:
        """(request URI, status, replica) of every request so far, oldest first.

        A websocket's line is written when it closes.
        """
        log = self.state_dir / "upstream.log"
        lines = log.read_text().splitlines() if log.exists() else []
        return [tuple(line.split(" ", 2)) for line in lines]  # type: ignore[misc]

    def check(self) -> subprocess.CompletedProcess[str]:
        """`nginx -t` on the config: nginx's own parser is the judge."""
        return subprocess.run(
            [NGINX, "-t", "-p", str(self.state_dir), "-c", str(self.config), "-e", "stderr"],
            capture_output=True,
            text=True,
            check=False,
        )

    def start(self, timeout: float = 30.0) -> None:
        """Start nginx and wait until it forwards /health to a replica."""
        argv = [NGINX, "-p", str(self.state_dir), "-c", str(self.config), "-e", "stderr"]
        self.process = ManagedProcess("nginx", argv, self.state_dir, dict(os.environ))
        self.process.wait_until(
            lambda: http_status(f"{self.url}/health") == 200, "nginx to forward /health", timeout
        )

    def stop(self) -> None:
        """Stop nginx."""
        if self.process is not None:
            self.process.stop()
