#!/usr/bin/env bash
# Prepares this host's Docker for kind's privileged node containers, and undoes
# it with `host-runtime.sh remove`. `docker run --privileged` asks for every
# capability; where the host's capability bounding set lacks one (some VMs and
# sandboxes drop CAP_SYS_RESOURCE), runc fails with "unable to apply caps:
# operation not permitted". The fix: register capwrap, a runc wrapper that drops
# the capabilities the host cannot grant, as dockerd's default runtime
# (daemon.json; dockerd reloads it on SIGHUP). Hosts with a full bounding set
# are left untouched.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
py=${PYTHON:-$root/.venv/bin/python}
daemon_json=${DOCKER_DAEMON_JSON:-/etc/docker/daemon.json}
state=${PANEL_DASK_CACHE:-$HOME/.cache/panel-dask}/kind/host-runtime
wrapper=/usr/local/lib/panel-dask/runc-capwrap
step() { echo "==> $*" >&2; }

reload_dockerd() {
  local pid
  pid=$(pidof dockerd || true)
  [[ -n $pid ]] || { echo "dockerd is not running" >&2; exit 1; }
  kill -HUP "$pid"
  sleep 1
}

if [[ ${1:-install} == remove ]]; then
  if [[ -f $state/installed ]]; then
    step "restoring $daemon_json and removing $wrapper"
    # dockerd's reload keeps a setting the file no longer has, so first reload
    # with runc named as the default, then put the original file back.
    python3 - "$daemon_json" <<'PY'
import json, pathlib, sys
path = pathlib.Path(sys.argv[1])
config = json.loads(path.read_text()) if path.exists() and path.read_text().strip() else {}
config.get("runtimes", {}).pop("capwrap", None)
config["default-runtime"] = "runc"
path.write_text(json.dumps(config, indent=2) + "\n")
PY
    reload_dockerd
    docker info --format '{{.DefaultRuntime}}' | grep -qx runc ||
      { echo "dockerd did not return to runc as its default runtime" >&2; exit 1; }
    if [[ -f $state/daemon.json.orig ]]; then
      cp "$state/daemon.json.orig" "$daemon_json"
    else
      rm -f "$daemon_json"
    fi
    rm -f "$wrapper" "$state/installed" "$state/daemon.json.orig"
  else
    step "host runtime untouched by panel-dask: nothing to restore"
  fi
  exit 0
fi

last_cap=$(cat /proc/sys/kernel/cap_last_cap)
full=$(printf '%x' $(((1 << (last_cap + 1)) - 1)))
bounding=$(awk '/^CapBnd/ {print $2}' /proc/self/status | sed 's/^0*//')
if [[ $bounding == "$full" ]]; then
  step "host grants every capability: Docker's own runc runs kind's privileged nodes"
  exit 0
fi
if [[ -f $state/installed ]] && cmp -s "$state/installed" <(printf '%s\n' "$bounding"); then
  step "capability wrapper already registered as dockerd's default runtime"
  exit 0
fi
[[ $(id -u) -eq 0 ]] || { echo "registering a Docker runtime needs root" >&2; exit 1; }
step "host capability bounding set is $bounding, not $full: registering the runc wrapper capwrap as dockerd's default runtime"
node_bin=$("$py" -m panel_dask_testcluster build-node --print-bin-dir)
mkdir -p "$state" "$(dirname "$wrapper")" "$(dirname "$daemon_json")"
install -m 0755 "$node_bin/capwrap" "$wrapper"
[[ -f $daemon_json && ! -f $state/daemon.json.orig ]] && cp "$daemon_json" "$state/daemon.json.orig"
python3 - "$daemon_json" "$wrapper" <<'PY'
import json, pathlib, sys
path, wrapper = pathlib.Path(sys.argv[1]), sys.argv[2]
config = json.loads(path.read_text()) if path.exists() and path.read_text().strip() else {}
config.setdefault("runtimes", {})["capwrap"] = {"path": wrapper}
config["default-runtime"] = "capwrap"
path.write_text(json.dumps(config, indent=2) + "\n")
PY
printf '%s\n' "$bounding" >"$state/installed"
reload_dockerd
docker info --format '{{.DefaultRuntime}}' | grep -qx capwrap ||
  { echo "dockerd did not take capwrap as its default runtime; see $daemon_json" >&2; exit 1; }
step "dockerd's default runtime is now capwrap (undo: make kind-down)"
