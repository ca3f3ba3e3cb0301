#!/usr/bin/env bash
# `make kind-up`: panel-dask on a local kind cluster, from nothing to a URL.
# Each step prints what it does and converges on what already exists:
#   1. tools: kind, kubectl and helm at the project's pins (built with go, cached)
#   2. host: a Docker daemon, and the runc wrapper where the host's capability
#      bounding set cannot give a privileged container every capability
#   3. images: KIND_IMAGES=local (default) builds the kind node image and
#      Traefik's image here, pulling nothing; KIND_IMAGES=upstream uses kind's
#      default node image and Traefik's official image from a registry
#   4. the cluster from kind-config.yaml, Traefik as its ingress controller
#   5. the app and operator images, loaded into the node; the chart, installed
#      with the kind values; then it waits until the app answers and prints URLs
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
py=${PYTHON:-$root/.venv/bin/python}
cluster=${KIND_CLUSTER_NAME:-panel-dask}
context=kind-$cluster
release=${RELEASE:-panel-dask}
namespace=${NAMESPACE:-panel-dask}
values=${KIND_VALUES:-charts/panel-dask/values-kind.yaml}
images_from=${KIND_IMAGES:-local}
wait_s=${KIND_WAIT_SECONDS:-300}
app_url=http://localhost/
fullname=$release
[[ $release == *panel-dask* ]] || fullname=$release-panel-dask
step() { echo "==> $*"; }

case $images_from in local | upstream) ;; *)
  echo "KIND_IMAGES=$images_from: allowed values are local (build every image here) and upstream (pull)" >&2
  exit 2
  ;;
esac
[[ -f $values ]] || { echo "kind values file $values not found (set KIND_VALUES=path)" >&2; exit 1; }

step "1/5 tools: kind, kubectl, helm at the project's pins (built once, cached)"
tools_bin=$("$py" -m panel_dask_testcluster build --print-bin-dir)
node_bin=$("$py" -m panel_dask_testcluster build-node --print-bin-dir)
export PATH=$node_bin:$tools_bin:$PATH

step "2/5 host: Docker daemon and runtime"
bash hack/dockerd-up.sh
bash hack/kind/host-runtime.sh

step "3/5 images ($images_from)"
node_image=()
traefik_image=${TRAEFIK_IMAGE:-}
if [[ $images_from == local ]]; then
  node_image=(--image "$(bash hack/kind/node-image.sh)")
  traefik_image=$(bash hack/kind/binary-image.sh traefik build-node)
fi
traefik_image=${traefik_image:-traefik:$("$py" -c 'from panel_dask_testcluster.pins import TRAEFIK_VERSION; print(TRAEFIK_VERSION)')}

step "4/5 cluster $cluster and its ingress controller (Traefik, $traefik_image)"
if kind get clusters 2>/dev/null | grep -qx "$cluster" &&
  [[ $(docker inspect -f '{{.State.Running}}' "$cluster-control-plane" 2>/dev/null) != true ]]; then
  # A node container that stopped (a host or dockerd restart) does not come back
  # with its mounts and cgroups intact: start over rather than reuse it.
  echo "    kind cluster $cluster exists but its node is not running: deleting it"
  kind delete cluster --name "$cluster"
fi
if kind get clusters 2>/dev/null | grep -qx "$cluster"; then
  echo "    reusing kind cluster $cluster"
else
  kind create cluster --name "$cluster" --config kind-config.yaml "${node_image[@]}" --wait "${wait_s}s"
fi
kubectl() { command kubectl --context "$context" "$@"; }
[[ $images_from == local ]] && kind load docker-image --name "$cluster" "$traefik_image" >/dev/null
sed "s|image: IMAGE|image: $traefik_image|" hack/kind/traefik.yaml | kubectl apply -f - >/dev/null
kubectl -n traefik rollout status deployment/traefik --timeout="${wait_s}s"

step "5/5 panel-dask: images, chart release $release in namespace $namespace"
LOCAL_BASE=$([[ $images_from == local ]] && echo 1 || echo 0) bash images/build.sh
kind load docker-image --name "$cluster" \
  "${APP_IMAGE:-panel-dask-app:dev}" "${OPERATOR_IMAGE:-panel-dask-operator:dev}" >/dev/null
helm upgrade --install "$release" charts/panel-dask \
  --kube-context "$context" --namespace "$namespace" --create-namespace \
  --values "$values" --wait --timeout "${wait_s}s"
echo "    waiting for the Dask cluster the operator creates"
kubectl -n "$namespace" wait daskcluster --all \
  --for=jsonpath='{.status.phase}'=Running --timeout="${wait_s}s"
echo "    waiting for ${app_url}health through the ingress"
deadline=$((SECONDS + wait_s))
until curl -fsS -o /dev/null "${app_url}health"; do
  if ((SECONDS >= deadline)); then
    echo "${app_url}health did not answer within ${wait_s}s; see: kubectl --context $context -n $namespace get pods" >&2
    exit 1
  fi
  sleep 2
done

cat <<MSG
==> panel-dask is up
  app:            $app_url
  Dask dashboard: ${app_url}dask/status
  scale Panel:    kubectl --context $context -n $namespace scale deployment $fullname-panel --replicas=3
  Dask workers:   kubectl --context $context -n $namespace get dqa,daskworkergroups   # worker group $fullname-default
  tools on PATH:  export PATH=$node_bin:$tools_bin:\$PATH
  remove it all:  make kind-down
MSG
