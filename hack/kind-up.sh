#!/usr/bin/env bash
# `make kind-up`: panel-dask on a local kind cluster, from nothing to a URL.
# Creates the cluster from kind-config.yaml (or reuses it), installs a pinned
# ingress-nginx, builds the images and loads them into the nodes, installs the
# chart with the kind values, waits until the app answers, prints the URLs.
# Idempotent: every step converges on an existing cluster.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

cluster=${KIND_CLUSTER_NAME:-panel-dask}
context=kind-$cluster
release=${RELEASE:-panel-dask}
namespace=${NAMESPACE:-panel-dask}
values=${KIND_VALUES:-charts/panel-dask/values-kind.yaml}
# Pinned: the kind provider manifest of this controller release.
ingress_version=${INGRESS_NGINX_VERSION:-controller-v1.14.3}
ingress_manifest=${INGRESS_NGINX_MANIFEST:-https://raw.githubusercontent.com/kubernetes/ingress-nginx/$ingress_version/deploy/static/provider/kind/deploy.yaml}
wait_s=${KIND_WAIT_SECONDS:-300}
wait_timeout=${wait_s}s
app_url=http://localhost/
# The chart's resource names: the release name, suffixed unless it says panel-dask.
fullname=$release
[[ $release == *panel-dask* ]] || fullname=$release-panel-dask

step() { echo "==> $*"; }

step "checking tools: docker, kind, kubectl, helm"
missing=()
command -v docker >/dev/null 2>&1 ||
  missing+=("docker   https://docs.docker.com/engine/install/ (with the buildx plugin), or Debian: apt-get install docker.io")
command -v kind >/dev/null 2>&1 ||
  missing+=("kind     go install sigs.k8s.io/kind@v0.33.0, or https://kind.sigs.k8s.io/docs/user/quick-start/#installation")
command -v kubectl >/dev/null 2>&1 ||
  missing+=("kubectl  https://kubernetes.io/docs/tasks/tools/#kubectl")
command -v helm >/dev/null 2>&1 ||
  missing+=("helm     https://helm.sh/docs/intro/install/")
if ((${#missing[@]})); then
  echo "missing tools; install them and rerun make kind-up:" >&2
  printf '  %s\n' "${missing[@]}" >&2
  exit 1
fi
if ! docker info >/dev/null 2>&1; then
  echo "the Docker daemon does not answer: start it (e.g. sudo systemctl start docker)" >&2
  exit 1
fi
if [[ ! -f $values ]]; then
  echo "kind values file $values not found (set KIND_VALUES=path)" >&2
  exit 1
fi

if kind get clusters 2>/dev/null | grep -qx "$cluster"; then
  step "reusing kind cluster $cluster"
else
  step "creating kind cluster $cluster from kind-config.yaml"
  kind create cluster --name "$cluster" --config kind-config.yaml --wait "$wait_timeout"
fi
kubectl() { command kubectl --context "$context" "$@"; }

step "installing ingress-nginx $ingress_version (kind provider manifest)"
kubectl apply -f "$ingress_manifest" >/dev/null
step "waiting for the ingress-nginx controller"
kubectl -n ingress-nginx rollout status deployment/ingress-nginx-controller --timeout="$wait_timeout"
kubectl -n ingress-nginx wait pod --for=condition=Ready \
  --selector=app.kubernetes.io/component=controller --timeout="$wait_timeout"
# The admission webhook's certificate jobs must finish before the chart's
# Ingress objects can be admitted.
kubectl -n ingress-nginx wait job --all --for=condition=Complete --timeout="$wait_timeout"

step "building images"
images/build.sh
step "loading images into the kind nodes"
kind load docker-image --name "$cluster" \
  "${APP_IMAGE:-panel-dask-app:dev}" "${OPERATOR_IMAGE:-panel-dask-operator:dev}"

step "installing chart charts/panel-dask as release $release in namespace $namespace"
helm upgrade --install "$release" charts/panel-dask \
  --kube-context "$context" --namespace "$namespace" --create-namespace \
  --values "$values" --wait --timeout "$wait_timeout"

step "waiting for the Dask cluster (the operator creates the scheduler and workers)"
kubectl -n "$namespace" wait daskcluster --all \
  --for=jsonpath='{.status.phase}'=Running --timeout="$wait_timeout"

step "waiting for ${app_url}health through the ingress"
deadline=$((SECONDS + wait_s))
until curl -fsS -o /dev/null "${app_url}health"; do
  if ((SECONDS >= deadline)); then
    echo "${app_url}health did not answer within $wait_timeout; see: kubectl --context $context -n $namespace get pods" >&2
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
  remove it all:  make kind-down
MSG
