#!/usr/bin/env bash
# `make kind-down`: deletes the panel-dask kind cluster. Idempotent: a cluster
# that does not exist is nothing to delete.
set -euo pipefail

cluster=${KIND_CLUSTER_NAME:-panel-dask}
if ! command -v kind >/dev/null 2>&1; then
  echo "kind is not installed, so there is no kind cluster to delete" >&2
  exit 0
fi
if kind get clusters 2>/dev/null | grep -qx "$cluster"; then
  echo "==> deleting kind cluster $cluster"
  kind delete cluster --name "$cluster"
else
  echo "==> no kind cluster named $cluster"
fi
