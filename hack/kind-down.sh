#!/usr/bin/env bash
# `make kind-down`: deletes the panel-dask kind cluster (its node containers and
# its Docker network) and undoes what kind-up changed on the host (the runc
# wrapper registered with dockerd). Idempotent. Built images and tools stay in
# Docker and ~/.cache/panel-dask, so the next kind-up is quick.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
py=${PYTHON:-$root/.venv/bin/python}
cluster=${KIND_CLUSTER_NAME:-panel-dask}
kind=$(command -v kind || true)
if [[ -z $kind && -x $py ]]; then
  node_bin=$("$py" -m panel_dask_testcluster build-node --print-bin-dir --cached-only 2>/dev/null || true)
  [[ -n $node_bin && -x $node_bin/kind ]] && kind=$node_bin/kind
fi
if [[ -z $kind ]]; then
  echo "==> kind is not installed, so there is no kind cluster to delete"
elif ! docker info >/dev/null 2>&1; then
  echo "==> no Docker daemon answers, so there is no kind cluster to delete"
elif "$kind" get clusters 2>/dev/null | grep -qx "$cluster"; then
  echo "==> deleting kind cluster $cluster"
  "$kind" delete cluster --name "$cluster"
else
  echo "==> no kind cluster named $cluster"
fi
# kind leaves its Docker network behind for other clusters; remove it when unused.
if docker network inspect kind >/dev/null 2>&1 &&
  [[ $(docker network inspect kind --format '{{len .Containers}}') == 0 ]]; then
  echo "==> removing the unused Docker network kind"
  docker network rm kind >/dev/null
fi
bash "$root/hack/kind/host-runtime.sh" remove
