#!/usr/bin/env bash
# `make kind-down`: deletes the panel-dask kind cluster (its node containers, its
# kubeconfig context and, when no other cluster uses it, kind's Docker network)
# and undoes what kind-up changed on the host (the runc wrapper registered with
# dockerd). Idempotent. Built images and tools stay in Docker and
# ~/.cache/panel-dask, so the next kind-up is quick.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
py=${PYTHON:-$root/.venv/bin/python}
cluster=${KIND_CLUSTER_NAME:-panel-dask}
docker_cli=$("$root/hack/docker-cli.sh" 2>/dev/null || command -v docker || true)

kind=$(command -v kind || true)
if [[ -z $kind && -x $py ]]; then
  node_bin=$("$py" -m panel_dask_testcluster build-node --print-bin-dir --cached-only 2>/dev/null || true)
  [[ -n $node_bin && -x $node_bin/kind ]] && kind=$node_bin/kind
fi
if [[ -z $docker_cli ]] || ! "$docker_cli" info >/dev/null 2>&1; then
  echo "==> no Docker daemon answers, so there is no kind cluster to delete"
  exit 0
fi
# kind labels its node containers with the cluster's name; that finds them even
# when no kind binary is at hand (say, after a pin change).
nodes=$("$docker_cli" ps -aq --filter "label=io.x-k8s.kind.cluster=$cluster")
if [[ -z $nodes ]]; then
  echo "==> no kind cluster named $cluster"
elif [[ -n $kind ]]; then
  echo "==> deleting kind cluster $cluster"
  "$kind" delete cluster --name "$cluster"
else
  echo "==> deleting the node containers of kind cluster $cluster (no kind binary found)"
  # shellcheck disable=SC2086 # one container ID per word
  "$docker_cli" rm -f -v $nodes >/dev/null
  if command -v kubectl >/dev/null 2>&1; then
    kubectl config delete-context "kind-$cluster" >/dev/null 2>&1 || true
    kubectl config delete-cluster "kind-$cluster" >/dev/null 2>&1 || true
    kubectl config delete-user "kind-$cluster" >/dev/null 2>&1 || true
  fi
fi
# kind leaves its Docker network behind for other clusters; remove it when unused.
if "$docker_cli" network inspect kind >/dev/null 2>&1 &&
  [[ $("$docker_cli" network inspect kind --format '{{len .Containers}}') == 0 ]]; then
  echo "==> removing the unused Docker network kind"
  "$docker_cli" network rm kind >/dev/null
fi
# The runtime wrapper serves every kind cluster on this host: keep it while any remains.
if [[ -n $("$docker_cli" ps -aq --filter label=io.x-k8s.kind.cluster) ]]; then
  echo "==> other kind clusters remain, so dockerd keeps its runtime wrapper"
else
  bash "$root/hack/kind/host-runtime.sh" remove
fi
