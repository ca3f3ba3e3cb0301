#!/usr/bin/env bash
# Makes sure a Docker daemon answers, starting one in the background when none
# does (CI machines have Debian's docker.io installed but no daemon running).
# Idempotent: a daemon that already answers is left alone. The daemon's log goes
# to ~/.cache/panel-dask/dockerd/dockerd.log.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=hack/lib.sh
source "$root/hack/lib.sh"
docker=$("$root/hack/docker-cli.sh")
state=${PANEL_DASK_CACHE:-$HOME/.cache/panel-dask}/dockerd
timeout_s=${DOCKERD_TIMEOUT:-60}

if "$docker" info >/dev/null 2>&1; then
  echo "==> Docker daemon answers"
  exit 0
fi
require_command dockerd docker.io "no Docker daemon answers"
require_root "no Docker daemon answers; start it (e.g. sudo systemctl start docker) or run this as root"

mkdir -p "$state"
echo "==> starting dockerd in the background (log: $state/dockerd.log)"
# setsid + nohup: the daemon outlives this script and the make process.
setsid nohup dockerd >>"$state/dockerd.log" 2>&1 </dev/null &
echo $! >"$state/dockerd.pid"
for ((i = 0; i < timeout_s; i++)); do
  if "$docker" info >/dev/null 2>&1; then
    echo "==> Docker daemon answers"
    exit 0
  fi
  sleep 1
done
echo "dockerd did not answer within ${timeout_s}s; last log lines:" >&2
tail -n 20 "$state/dockerd.log" >&2
exit 1
